using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// Giving slots a new backup (the controller's AddBackup, after a failure or when a node comes
/// back), on their primary. The same steps as a move: the target drops what it held of them and
/// admits the copy (MoveIn); every write of them applied here meanwhile is forwarded (MovePut,
/// MoveDelete); their keys are copied (Import, one scan of the store for all); then, under every
/// partition lock so that no write falls between forwarding and replicating, the map that names
/// the target as their backup is stored in etcd and taken. From then on writes replicate to it.
/// </summary>
public sealed partial class StorageNode
{
    internal StoreStatus AddBackup(long epoch, string targetId, int[]? requested)
    {
        if (requested is not { Length: > 0 } || _coordination is null) return StoreStatus.BadRequest;
        try
        {
            AddBackup(targetId, requested);
            return StoreStatus.Ok;
        }
        catch (Exception e) when (e is PeerConnectionException or PeerRefusedException or InvalidOperationException or ArgumentException)
        {
            _log.LogWarning("Copying {Slots} slots to node {Target} (asked under epoch {Epoch}) stopped: {Reason}", requested.Length, targetId, epoch, e.Message);
            Counters.CountError("replication", $"copying slots to node {targetId} stopped: {e.Message}");
            return StoreStatus.Unavailable;
        }
    }

    /// <summary>Copies <paramref name="requested"/> (those this node leads and the target does not hold) to <paramref name="targetId"/>; see the type's remarks.</summary>
    public int AddBackup(string targetId, IReadOnlyCollection<int> requested)
    {
        lock (_moveGate)
        {
            var map = _cluster ?? throw new InvalidOperationException("this node is not in a cluster");
            var target = map.Node(targetId) ?? throw new ArgumentException($"node '{targetId}' is not in the cluster map");
            var slots = requested.Where(s => (uint)s < (uint)map.SlotCount && map.Owners[s] == Options.NodeId && !map.Holds(s, targetId)
                && map.BackupsOf(s).Count < map.Replicas - 1).ToHashSet();
            if (slots.Count == 0) return 0;
            var clock = Stopwatch.StartNew();
            var scans = new Stopwatch();
            var peer = PeerSession.Open(target, ClusterToken!, TimeSpan.FromSeconds(30));
            long copied;
            try
            {
                foreach (int slot in slots) peer.MoveIn(slot);
                _forwardFailure = null;
                foreach (int slot in slots) _outgoing[slot] = peer;
                copied = CopySlots(slots, map, peer, scans);
                StoreWithBackup(slots, targetId);
            }
            finally
            {
                foreach (int slot in slots) _outgoing.TryRemove(slot, out _);
                peer.Dispose();
            }
            _log.LogInformation("Node {Target} now backs {Slots} slots of this node: {Copied} keys copied in {Ms} ms ({ScanMs} ms scanning the store)",
                targetId, slots.Count, copied, clock.ElapsedMilliseconds, scans.ElapsedMilliseconds);
            return slots.Count;
        }
    }

    /// <summary>Under every order lock: stores (compare-and-swap in etcd) and takes the map with the target backing the slots.</summary>
    void StoreWithBackup(IReadOnlySet<int> slots, string targetId) => UnderEveryOrderLock(() =>
    {
        if (_forwardFailure is { } failure) throw new InvalidOperationException($"forwarding failed: {failure}");
        var stored = _coordination!.UpdateMap(current =>
        {
            var edit = current.Edit();
            bool any = false;
            foreach (int slot in slots)
            {
                if (current.Owners[slot] != Options.NodeId || current.Holds(slot, targetId) || current.BackupsOf(slot).Count >= current.Replicas - 1) continue;
                edit.AddBackup(slot, targetId);
                any = true;
            }
            return any ? edit.Build() : null;
        }) ?? throw new InvalidOperationException("the map changed meanwhile: this node no longer leads those slots, or they have their backups");
        AdoptStored(stored);
        return stored;
    });
}
