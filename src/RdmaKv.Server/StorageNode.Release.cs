using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// With etcd, a node learns from its watch that a move or a hand-over gave it a slot, maybe before
/// the old owner has retired its regions (it does so right after storing the map). Until then a
/// reader with the old map still reads the old owner's regions as current, so a write this node
/// acknowledged could be missed by a later read. So a slot gained by a move or a hand-over waits
/// for the old owner's word (AdoptMap, sent after it retired) before this node takes its writes: they
/// get WrongSlot meanwhile, and clients retry. Reads need no wait: this node holds every write the
/// old owner acknowledged. A slot gained by a failover does not wait: the old owner stopped
/// serving before its lease ran out. If the word never comes (the old owner died after storing
/// the map), the wait ends after one lease TTL.
/// </summary>
public sealed partial class StorageNode
{
    /// <summary>Slot to the map epoch that gave it to this node and the Stopwatch timestamp at which its wait ends anyway.</summary>
    readonly ConcurrentDictionary<int, (long Epoch, long Until)> _awaitingRelease = new();

    /// <summary>The newest epoch for which a node said it retired its regions (the word may come before the watch's map).</summary>
    long _releasedEpoch;

    /// <summary>Under the adopt gate, as <paramref name="map"/> replaces <paramref name="current"/>: the slots it gives this node from a live node wait for that node's word.</summary>
    void AwaitReleases(ClusterMap current, ClusterMap map)
    {
        if (map.Epoch <= Interlocked.Read(ref _releasedEpoch)) return;
        long until = Stopwatch.GetTimestamp() + (long)(Options.LeaseTtl.TotalSeconds * Stopwatch.Frequency);
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            string from = current.Owners[slot];
            if (map.Owners[slot] != Options.NodeId || from == Options.NodeId) continue;
            // A move: this node did not back the slot. A hand-over: the old owner backs it now. A
            // failover promotes a backup and drops the old owner: it stopped serving before its lease ran out.
            bool moved = !current.BackupsOf(slot).Contains(Options.NodeId!);
            bool handedOver = map.BackupsOf(slot).Contains(from);
            if (moved || handedOver) _awaitingRelease[slot] = (map.Epoch, until);
        }
    }

    /// <summary>True while this node must not take client writes of <paramref name="slot"/> (see the type's remarks).</summary>
    bool AwaitsRelease(int slot)
    {
        if (_awaitingRelease.IsEmpty || !_awaitingRelease.TryGetValue(slot, out var wait)) return false;
        if (Stopwatch.GetTimestamp() < wait.Until) return true;
        if (_awaitingRelease.TryRemove(new KeyValuePair<int, (long, long)>(slot, wait)))
            _log.LogWarning("Slot {Slot} (epoch {Epoch}) is served without word from its old owner that it retired its regions: none came within {Ttl} s", slot, wait.Epoch, Options.LeaseTtl.TotalSeconds);
        return false;
    }

    /// <summary>A node that gave slots away says it retired its regions for the map of <paramref name="epoch"/>: the slots it gave wait no more.</summary>
    void Released(long epoch)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _releasedEpoch)) < epoch && Interlocked.CompareExchange(ref _releasedEpoch, epoch, seen) != seen)
        {
        }
        foreach (var (slot, wait) in _awaitingRelease)
            if (wait.Epoch <= epoch) _awaitingRelease.TryRemove(new KeyValuePair<int, (long, long)>(slot, wait));
    }
}
