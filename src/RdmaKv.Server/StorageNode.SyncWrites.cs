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
    StoreStatus PutDurableFirst(NodePartition partition, ReadOnlySpan<byte> key, KeyHash hash, ReadOnlySpan<byte> value, long expiresAt, WriteOrigin origin, int slot)
    {
        StoredValue? previous = CurrentValue(partition, key);
        StoreStatus durable = _store.WaitDurable(partition.Store.Put(key, value, expiresAt));
        if (durable != StoreStatus.Ok)
        {
            // Never published, and taken back out of the store, which the disk-full repair
            // checkpoints: the write the client is told failed does not come back later.
            Restore(partition, key, previous);
            return durable;
        }
        StoreStatus status = partition.Writer.Put(key, hash, value, expiresAt);
        if (status != StoreStatus.Ok)
        {
            // The region refused it (full): the log and the store must not keep what the client is told failed.
            Restore(partition, key, previous);
            return status;
        }
        if (origin.Source == WriteSource.Client) Forward(slot, key, value, expiresAt, delete: false);
        else NoteMoved(slot, key, deleted: false);
        return StoreStatus.Ok;
    }

    /// <summary>Under the partition's lock.</summary>
    StoreStatus DeleteDurableFirst(NodePartition partition, ReadOnlySpan<byte> key, KeyHash hash, WriteOrigin origin, int slot)
    {
        if (origin.Source != WriteSource.Client) NoteMoved(slot, key, deleted: true);
        StoredValue? previous = CurrentValue(partition, key);
        if (previous is null) return StoreStatus.NotFound;
        StoreStatus durable = _store.WaitDurable(partition.Store.Delete(key));
        if (durable != StoreStatus.Ok)
        {
            Restore(partition, key, previous);
            return durable;
        }
        StoreStatus status = partition.Writer.Delete(key, hash);
        if (status != StoreStatus.Ok) return status;
        if (origin.Source == WriteSource.Client) Forward(slot, key, default, Expiry.Never, delete: true);
        return StoreStatus.Ok;
    }

    /// <summary>
    /// A MultiPut: every pair's partition locked (in partition order, as a checkpoint takes them),
    /// every pair logged, one commit for all, then every pair published. <paramref name="applied"/>
    /// is how many pairs, from the first, were applied; a pair that fails ends the batch, and the
    /// pairs after it are taken back out of the store.
    /// </summary>
    internal StoreStatus PutManyDurableFirst((ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)[] pairs, out int applied)
    {
        applied = 0;
        var owners = new NodePartition[pairs.Length];
        for (int i = 0; i < pairs.Length; i++) owners[i] = PartitionOf(pairs[i].Key.Span);
        var locked = owners.Distinct().OrderBy(p => Array.IndexOf(_partitions, p)).ToArray();
        foreach (var p in locked) p.Order.Enter(); // a client write's, as in Put: a move's switch falls before or after it
        foreach (var p in locked) p.Lock.Enter();
        try
        {
            var previous = new StoredValue?[pairs.Length];
            var slots = new int[pairs.Length];
            StoreStatus admitted = StoreStatus.Ok;
            long last = -1;
            int logged = 0;
            for (; logged < pairs.Length; logged++)
            {
                var (key, value) = pairs[logged];
                admitted = Admit(key.Span, WriteOrigin.Client, out slots[logged]);
                if (admitted != StoreStatus.Ok) break;
                previous[logged] = CurrentValue(owners[logged], key.Span);
                last = owners[logged].Store.Put(key.Span, value.Span);
            }
            StoreStatus durable = logged == 0 ? StoreStatus.Ok : _store.WaitDurable(last);
            if (durable != StoreStatus.Ok)
            {
                Undo(pairs, owners, previous, 0, logged);
                return durable;
            }
            for (; applied < logged; applied++)
            {
                var (key, value) = pairs[applied];
                StoreStatus status = owners[applied].Writer.Put(key.Span, value.Span);
                if (status != StoreStatus.Ok)
                {
                    Undo(pairs, owners, previous, applied, logged);
                    return status;
                }
                Forward(slots[applied], key.Span, value.Span, Expiry.Never, delete: false);
            }
            return admitted;
        }
        finally
        {
            foreach (var p in locked) p.Lock.Exit();
            foreach (var p in locked) p.Order.Exit();
        }
    }

    /// <summary>Takes pairs [<paramref name="from"/>, <paramref name="to"/>) back out of the store, newest first, and waits once.</summary>
    void Undo((ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)[] pairs, NodePartition[] owners, StoredValue?[] previous, int from, int to)
    {
        long last = -1;
        for (int i = to - 1; i >= from; i--)
        {
            var key = pairs[i].Key.Span;
            last = previous[i] is { } value ? owners[i].Store.Put(key, value.Value, value.ExpiresAt) : owners[i].Store.Delete(key);
        }
        _store.WaitDurable(last);
    }

    /// <summary>
    /// The key's value and expiry now, as the log and the store have it: the region's copy while it
    /// is there (a MultiPut looks a key up again after logging it; the store is consulted only for a
    /// key the region does not hold or holds damaged, as fallback GETs do). Null when the key is
    /// absent or its value has expired. Under the partition's lock.
    /// </summary>
    static StoredValue? CurrentValue(NodePartition partition, ReadOnlySpan<byte> key)
    {
        switch (partition.Writer.Lookup(key, out var value, out long expiresAt))
        {
            case Residence.Resident:
                return new StoredValue(value.ToArray(), expiresAt);
            case Residence.MaybeCold or Residence.Damaged:
                byte[]? stored = partition.Store.Read(key, out long storedExpiry);
                return stored is null || Expiry.HasPassed(storedExpiry) ? null : new StoredValue(stored, storedExpiry);
            default:
                return null;
        }
    }

    /// <summary>
    /// Puts the key's previous value back in the store (and the log, after the refused record, so
    /// a replay ends in it too). Waits for it on a working log; a failed log takes no records, and
    /// its repair checkpoints the store as it now is.
    /// </summary>
    void Restore(NodePartition partition, ReadOnlySpan<byte> key, StoredValue? previous) =>
        _store.WaitDurable(previous is { } p ? partition.Store.Put(key, p.Value, p.ExpiresAt) : partition.Store.Delete(key));
}

/// <summary>A key's value with its expiry (see <see cref="Expiry"/>), as the node holds it.</summary>
readonly record struct StoredValue(byte[] Value, long ExpiresAt);
