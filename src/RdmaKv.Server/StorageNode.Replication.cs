using System.Collections.Concurrent;
using System.Diagnostics;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// Primary-backup replication of each slot (see docs/replication.md). Under the key's partition
/// order lock (not the partition lock, which the backups' own replica writes here need) the
/// primary sends the write to every backup the map names (ReplicaPut, ReplicaDelete),
/// and applies it itself only once each has applied it: a value one-sided readers can see is
/// already on every backup, so a promoted backup never lacks a write anyone read or was told
/// about. When a backup cannot be reached the write fails as Unavailable (its outcome unknown:
/// the backups before it applied it) after the primary took it back from those it reached.
/// </summary>
public sealed partial class StorageNode
{
    ReplicaLinks? _links;

    /// <summary>Node id to the epoch at or below which its replicated writes and lease requests are refused (set by the controller's Fence).</summary>
    readonly ConcurrentDictionary<string, long> _fences = new(StringComparer.Ordinal);

    /// <summary>What a write's replication did: the backups that applied it, and the key's value before, to take it back.</summary>
    readonly record struct Replicated(StoreStatus Status, int Slot, string[]? Applied, StoredValue? Previous);

    /// <summary>True when some slot of the map has a backup: writes then go through the backups first.</summary>
    internal bool Replicates => _cluster is { Replicas: > 1 };

    /// <summary>True while a write may wait on another node: it replicates, or a slot moving away forwards its writes.</summary>
    internal bool WritesMayWait => Replicates || !_outgoing.IsEmpty;

    /// <summary>Under the partition's order lock, before a client's write is applied here: every backup of its slot applies it.</summary>
    Replicated Replicate(NodePartition partition, int slot, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, bool delete, WriteOrigin origin)
    {
        if (origin.Source != WriteSource.Client || slot < 0) return new(StoreStatus.Ok, slot, null, null);
        var map = _cluster!;
        var backups = map.BackupsOf(slot);
        if (backups.Count == 0) return new(StoreStatus.Ok, slot, null, null);
        StoredValue? previous;
        lock (partition.Lock) previous = CurrentValue(partition, key);
        var applied = new List<string>(backups.Count);
        foreach (string backup in backups)
        {
            try
            {
                _links!.Send(backup, map.Epoch, key, value, delete, expiresAt);
                applied.Add(backup);
            }
            catch (PeerRefusedException e)
            {
                // Refused, so not applied there: when nobody applied it, the write simply did not happen.
                Interlocked.Increment(ref Counters.ReplicaFailures);
                Counters.CountError("replication", $"backup {backup} refused a write of slot {slot}: {e.Message}");
                var undone = Undo(map, key, previous, applied);
                return new(applied.Count == 0 || undone ? (e.Status == StoreStatus.WrongSlot ? StoreStatus.WrongSlot : StoreStatus.Unavailable) : StoreStatus.Unavailable, slot, null, null);
            }
            catch (PeerConnectionException e)
            {
                Interlocked.Increment(ref Counters.ReplicaFailures);
                Counters.CountError("replication", $"backup {backup} of slot {slot} is unreachable: {e.Message}");
                Undo(map, key, previous, applied);
                return new(StoreStatus.Unavailable, slot, null, null);
            }
        }
        return new(StoreStatus.Ok, slot, [.. applied], previous);
    }

    /// <summary>This node could not apply a write its backups applied: they take it back. The status when they did, else Unavailable.</summary>
    StoreStatus Unreplicate(Replicated replicated, ReadOnlySpan<byte> key, StoreStatus status)
    {
        if (replicated.Applied is not { Length: > 0 } applied) return status;
        return Undo(_cluster!, key, replicated.Previous, applied) ? status : StoreStatus.Unavailable;
    }

    /// <summary>Puts the key's previous value back on <paramref name="backups"/>; false when one of them could not be told.</summary>
    bool Undo(ClusterMap map, ReadOnlySpan<byte> key, StoredValue? previous, IReadOnlyList<string> backups)
    {
        bool all = true;
        foreach (string backup in backups)
        {
            try
            {
                _links!.Send(backup, map.Epoch, key, previous?.Value, delete: previous is null, previous?.ExpiresAt ?? Expiry.Never);
            }
            catch (Exception e) when (e is PeerConnectionException or PeerRefusedException)
            {
                all = false;
                Counters.CountError("replication", $"backup {backup} could not take back a write that failed: {e.Message}");
            }
        }
        return all;
    }

    /// <summary>
    /// May this backup apply a write its primary replicated? Not from a fenced node; from a
    /// primary acting under a newer map than this node's, yes (it learns that map soon); otherwise
    /// only from the slot's primary in this node's map, to a node that backs the slot or is
    /// receiving a copy of it.
    /// </summary>
    StoreStatus AdmitReplica(ClusterMap map, int slot, WriteOrigin origin)
    {
        if (FencedOut(origin.Sender!, origin.Epoch)) return StoreStatus.WrongSlot;
        if (origin.Epoch > map.Epoch) return StoreStatus.Ok;
        if (map.Owners[slot] != origin.Sender) return StoreStatus.WrongSlot;
        return map.BackupsOf(slot).Contains(Options.NodeId!) || _incoming.ContainsKey(slot) ? StoreStatus.Ok : StoreStatus.WrongSlot;
    }

    bool FencedOut(string node, long epoch) => _fences.TryGetValue(node, out long fenced) && epoch <= fenced;

    /// <summary>Guards the fences against the grants, so a fence sees every grant made before it.</summary>
    readonly Lock _grantGate = new();

    /// <summary>Node id to when this node last granted it a read lease (Stopwatch ticks).</summary>
    readonly Dictionary<string, long> _grantedAt = new(StringComparer.Ordinal);

    /// <summary>When this process started: a grant it cannot remember was made before it.</summary>
    readonly long _startedAt = Stopwatch.GetTimestamp();

    /// <summary>
    /// The controller's Fence: refuse <paramref name="node"/>'s writes and lease requests made under
    /// epoch <paramref name="epoch"/> or older. <paramref name="sinceGrant"/> is how long ago this
    /// node last granted it a read lease (or started, if it granted none), so that the controller
    /// waits only until that grant has run out, not a whole TTL.
    /// </summary>
    internal StoreStatus FenceOut(string node, long epoch, out TimeSpan sinceGrant)
    {
        sinceGrant = TimeSpan.Zero;
        if (_cluster?.Node(node) is null) return StoreStatus.BadRequest;
        lock (_grantGate)
        {
            _fences.AddOrUpdate(node, epoch, (_, old) => Math.Max(old, epoch));
            sinceGrant = Stopwatch.GetElapsedTime(_grantedAt.GetValueOrDefault(node, _startedAt));
        }
        return StoreStatus.Ok;
    }

    /// <summary>A primary's lease request: granted (Ok) unless the controller fenced it.</summary>
    internal StoreStatus GrantLease(string node, long epoch)
    {
        if (_cluster?.Node(node) is null) return StoreStatus.BadRequest;
        lock (_grantGate)
        {
            if (FencedOut(node, epoch)) return StoreStatus.WrongSlot;
            _grantedAt[node] = Stopwatch.GetTimestamp();
            return StoreStatus.Ok;
        }
    }

    /// <summary>A replicated put or delete from the slot's primary (<see cref="AdmitReplica"/> decides), applied and made durable as a client's would be.</summary>
    internal StoreStatus ApplyReplica(long epoch, string sender, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool delete, long expiresAt = Expiry.Never)
    {
        var origin = WriteOrigin.Replica(epoch, sender);
        if (delete) return Delete(key, origin);
        long address = -1;
        StoreStatus status = Put(key, value, ref address, origin, expiresAt);
        return status == StoreStatus.Ok ? _store.WaitDurable(address) : status;
    }
}
