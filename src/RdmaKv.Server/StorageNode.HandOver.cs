using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// Handing a slot to one of its backups (with etcd; <c>rdmakv cluster move</c> or <c>rebalance</c>
/// to a node that backs the slot). Both hold every acknowledged write, since the primary applies a
/// write only after every backup has, so nothing is copied. Under every partition order lock (no write
/// of this node is between its backups and itself) the map with the two swapped is stored in etcd
/// (compare-and-swap) and taken: from then on this node refuses the slot's writes, retires its
/// regions so one-sided readers refresh, and backs the slot; the backup learns the map from its
/// watch (or this node's word that it retired, whichever is later: <c>StorageNode.Release.cs</c>)
/// and serves the slot, replicating to this node.
/// </summary>
public sealed partial class StorageNode
{
    /// <summary>Called under the move gate by <see cref="MoveSlot"/> when <paramref name="targetId"/> backs <paramref name="slot"/>.</summary>
    MoveReport HandOver(int slot, string targetId)
    {
        var clock = Stopwatch.StartNew();
        var handed = UnderEveryOrderLock(() =>
        {
            var stored = _coordination!.UpdateMap(current =>
                    current.Owners[slot] == Options.NodeId && current.BackupsOf(slot).Contains(targetId) ? current.HandedOver(slot, targetId) : null)
                ?? throw new InvalidOperationException($"slot {slot} was not handed to node {targetId}: the map in etcd no longer has this node lead it with {targetId} as a backup");
            AdoptStored(stored);
            return stored;
        });
        RetireFor(handed.Epoch); // before the word below: until then the backup takes no writes of the slot
        var notTold = new List<string>();
        TellMap(handed.Node(targetId)!, handed, ClusterToken!, notTold); // the word that this node retired (StorageNode.Release.cs)
        _log.LogInformation("Slot {Slot} handed to its backup node {Target} in {Ms} ms (nothing copied); this node backs it now, epoch {Epoch}",
            slot, targetId, clock.ElapsedMilliseconds, handed.Epoch);
        return new MoveReport(slot, Options.NodeId!, targetId, handed.Epoch, 0, 0, Math.Round(clock.Elapsed.TotalMilliseconds, 1), notTold) { HandedOver = true };
    }
}
