using RdmaKv.Core;
using RdmaKv.Storage;

namespace RdmaKv.Server;

/// <summary>
/// Writes in sync durability: durable before visible. One-sided readers never ask the node, so
/// whatever is in a region can be read at once; a put published before its commit could be read
/// and then lost by a crash. So the write goes to the log first, the partition's writer waits for
/// the commit that holds it (still holding the partition's lock, so nothing on this partition can
/// come between the log and the region), and only then publishes it. The reply waited for the
/// commit before as well, so this adds no latency; it does keep one commit in flight per
/// partition (writers of different partitions still share commits).
/// </summary>
public sealed partial class StorageNode
{
    /// <summary>Under the partition's lock.</summary>
    StoreStatus PutDurableFirst(NodePartition partition, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool moved, int clusterPartition)
    {
        byte[]? previous = CurrentValue(partition, key);
        StoreStatus durable = _store.WaitDurable(partition.Store.Put(key, value));
        if (durable != StoreStatus.Ok)
        {
            // Never published, and taken back out of the store, which the disk-full repair
            // checkpoints: the write the client is told failed does not come back later.
            Restore(partition, key, previous);
            return durable;
        }
        StoreStatus status = partition.Writer.Put(key, value);
        if (status != StoreStatus.Ok)
        {
            // The region refused it (full): the log and the store must not keep what the client is told failed.
            Restore(partition, key, previous);
            return status;
        }
        if (moved) NoteMoved(clusterPartition, key, deleted: false);
        else Forward(clusterPartition, key, value, delete: false);
        return StoreStatus.Ok;
    }

    /// <summary>Under the partition's lock.</summary>
    StoreStatus DeleteDurableFirst(NodePartition partition, ReadOnlySpan<byte> key, bool moved, int clusterPartition)
    {
        if (moved) NoteMoved(clusterPartition, key, deleted: true);
        byte[]? previous = CurrentValue(partition, key);
        if (previous is null) return StoreStatus.NotFound;
        StoreStatus durable = _store.WaitDurable(partition.Store.Delete(key));
        if (durable != StoreStatus.Ok)
        {
            Restore(partition, key, previous);
            return durable;
        }
        StoreStatus status = partition.Writer.Delete(key);
        if (status != StoreStatus.Ok) return status;
        if (!moved) Forward(clusterPartition, key, default, delete: true);
        return StoreStatus.Ok;
    }

    /// <summary>The key's value now: from the region, or from the store for a key that is not resident (or whose extent is damaged).</summary>
    static byte[]? CurrentValue(NodePartition partition, ReadOnlySpan<byte> key) =>
        partition.Writer.Lookup(key, out var value) switch
        {
            Residence.Resident => value.ToArray(),
            Residence.MaybeCold or Residence.Damaged => partition.Store.Read(key),
            _ => null,
        };

    /// <summary>
    /// Puts the key's previous value back in the store (and the log, after the refused record, so
    /// a replay ends in it too). Waits for it on a working log; a failed log takes no records, and
    /// its repair checkpoints the store as it now is.
    /// </summary>
    void Restore(NodePartition partition, ReadOnlySpan<byte> key, byte[]? previous) =>
        _store.WaitDurable(previous is null ? partition.Store.Delete(key) : partition.Store.Put(key, previous));
}
