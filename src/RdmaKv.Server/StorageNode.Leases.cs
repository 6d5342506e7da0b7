using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// Fencing: with etcd, a primary serves its slots only while it surely holds a lease (see
/// docs/replication.md). Either its etcd membership lease (the last renewal's sending plus the
/// TTL, less <see cref="StorageNodeOptions.LeaseMargin"/>, is still ahead), or a read lease from
/// every backup of the slot (each lasts the TTL from the request's sending, less the margin, and
/// a backup stops granting once the controller fences the primary). The controller promotes a
/// backup only after the primary's etcd lease expired and after fencing that backup and waiting
/// one TTL, so by then the old primary holds neither lease and has stopped: it refuses writes at
/// once and retires its regions, so one-sided readers leave it. While etcd is down the backups'
/// leases keep the data path going; a node cut off from both stops.
/// </summary>
public sealed partial class StorageNode
{
    ICoordination? _coordination;

    /// <summary>Backup id to the Stopwatch timestamp until which its read lease surely holds.</summary>
    readonly ConcurrentDictionary<string, long> _leasedUntil = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte> _leaseRequests = new(StringComparer.Ordinal);

    /// <summary>Set while this node serves nothing: reads of its regions, fallback GETs, Hello, Regions and writes are refused.</summary>
    volatile bool _fenced;
    Thread? _leaseThread;
    long _lastLeaseRound;

    /// <summary>True while this node holds no lease it can serve under (with etcd only); see the type's remarks.</summary>
    public bool IsFenced => _fenced;

    /// <summary>Why it is fenced, for logs and the admin plane.</summary>
    public string? FenceReason { get; private set; }

    TimeSpan LeaseCheckPeriod => TimeSpan.FromMilliseconds(Math.Clamp(Options.LeaseTtl.TotalMilliseconds / 40, 10, 50));

    /// <summary>With a coordination service: whether this node may serve <paramref name="slot"/> as its primary now.</summary>
    bool Leads(ClusterMap map, int slot) => _coordination is null || (!_fenced && HoldsLease(map.BackupsOf(slot), Stopwatch.GetTimestamp()));

    bool HoldsLease(IReadOnlyList<string> backups, long now)
    {
        var coordination = _coordination!;
        if (coordination.LeaseId == Volatile.Read(ref _leaseConfirmed) && coordination.LeaseSurelyHeld(Options.LeaseMargin)) return true;
        foreach (string b in backups)
            if (!_leasedUntil.TryGetValue(b, out long until) || now >= until) return false;
        return true;
    }

    /// <summary>A node serves only under a map that names its own run (or one that names no runs: no etcd, or a cluster just made).</summary>
    bool Incarnated(ClusterMap map) =>
        map.Incarnations.Count == 0 || (_coordination is { } c && map.Incarnations.GetValueOrDefault(Options.NodeId!) == c.Incarnation);

    void StartLeases()
    {
        _fenced = true; // until the first check: a node that restarted must not serve what was failed over
        FenceReason = "starting: not yet confirmed by the cluster's map and leases";
        _leaseThread = new Thread(LeaseLoop) { IsBackground = true, Name = "rdmakv-leases" };
        _leaseThread.Start();
    }

    void LeaseLoop()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                ConfirmLease();
                var map = _cluster;
                if (map is not null)
                {
                    RequestLeases(map);
                    CheckLeases(map);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.LogError(e, "The lease check failed");
            }
            Thread.Sleep(LeaseCheckPeriod);
        }
    }

    /// <summary>Every quarter TTL, asks each backup of the slots this node leads for a read lease (in parallel, one request per backup at a time).</summary>
    void RequestLeases(ClusterMap map)
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastLeaseRound, now) < Options.LeaseTtl / 4) return;
        _lastLeaseRound = now;
        var backups = new HashSet<string>(StringComparer.Ordinal);
        for (int slot = 0; slot < map.SlotCount; slot++)
            if (map.Owners[slot] == Options.NodeId) backups.UnionWith(map.BackupsOf(slot));
        foreach (string backup in backups)
        {
            if (!_leaseRequests.TryAdd(backup, 0)) continue;
            long epoch = map.Epoch;
            ThreadPool.UnsafeQueueUserWorkItem(_ => RequestLease(backup, epoch), null);
        }
    }

    void RequestLease(string backup, long epoch)
    {
        try
        {
            long sent = Stopwatch.GetTimestamp();
            _links!.Call(backup, s => s.Grant(epoch, Options.NodeId!));
            long until = sent + (long)((Options.LeaseTtl - Options.LeaseMargin).TotalSeconds * Stopwatch.Frequency);
            _leasedUntil.AddOrUpdate(backup, until, (_, old) => Math.Max(old, until));
        }
        catch (Exception e) when (e is PeerConnectionException or PeerRefusedException or ObjectDisposedException)
        {
            // No lease from it this round: the etcd lease may still cover, else the check fences.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // On a thread-pool thread an escaping exception ends the process: no lease this round.
            _log.LogWarning(e, "Asking node {Node} for a read lease failed", backup);
        }
        finally
        {
            _leaseRequests.TryRemove(backup, out _);
        }
    }

    /// <summary>Fences this node when it may no longer lead a slot it leads (or is not in the map's runs), and lifts the fence when it may again.</summary>
    void CheckLeases(ClusterMap map)
    {
        long now = Stopwatch.GetTimestamp();
        string? reason = null;
        if (!Incarnated(map)) reason = $"this run of node {Options.NodeId} is not yet in the cluster map (epoch {map.Epoch}): the controller first fails over what it led";
        else
        {
            for (int slot = 0; slot < map.SlotCount && reason is null; slot++)
                if (map.Owners[slot] == Options.NodeId && !HoldsLease(map.BackupsOf(slot), now))
                    reason = $"its etcd lease cannot be renewed ({_coordination!.Problem ?? "no answer"}) and not every backup of slot {slot} granted a read lease";
        }
        if (reason is not null && !_fenced) StopServing(reason);
        else if (reason is null && _fenced)
        {
            _fenced = false;
            FenceReason = null;
            _log.LogInformation("Node {Node} serves again: it holds its leases under map epoch {Epoch}", Options.NodeId, map.Epoch);
        }
    }

    /// <summary>Stops serving: refuses writes from now on, and retires every region so that one-sided readers come asking (and are refused).</summary>
    void StopServing(string reason)
    {
        _fenced = true;
        FenceReason = reason;
        _log.LogWarning("Node {Node} stops serving: {Reason}", Options.NodeId, reason);
        long started = Stopwatch.GetTimestamp();
        foreach (var p in _partitions)
        {
            lock (p.Lock) p.Writer.Grow(); // never held across a wait on another node (NodePartition.Order)
        }
        _log.LogWarning("Node {Node} retired its regions ({Ms:F0} ms to retire its regions)", Options.NodeId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
