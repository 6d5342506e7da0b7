using RdmaKv.Core;
using RdmaKv.Storage;

namespace RdmaKv.Server;

/// <summary>
/// One partition on a node: its writer, its session on the node's store, and the lock that makes
/// it the only writer. The thread that received a request applies it under the lock; handing it
/// to a writer thread would cost a cross-core wake-up per write (docs/measurements.md).
/// </summary>
public sealed class NodePartition(PartitionWriter writer, StoreSession store) : IDisposable
{
    /// <summary>Held while the partition's region or store changes, and never while waiting on another node.</summary>
    public Lock Lock { get; } = new();

    /// <summary>
    /// Orders the partition's client writes: held from the check that this node may take the write
    /// until it is applied here, including the wait for its backups, and taken (before
    /// <see cref="Lock"/>) by a slot move's switch. The replica writes this node applies for other
    /// primaries take only <see cref="Lock"/>, so two primaries that back each other never wait on
    /// each other's locks (<c>CrossReplicationTests</c>).
    /// </summary>
    public Lock Order { get; } = new();
    public PartitionWriter Writer { get; } = writer;

    /// <summary>The partition's handle on the durable store; used only under <see cref="Lock"/>.</summary>
    public StoreSession Store { get; } = store;

    /// <summary>The newest map epoch for which this partition's region was retired because the node gave a slot away; used only under <see cref="Lock"/>.</summary>
    public long RetiredForEpoch { get; set; }

    readonly Lock _parkGate = new();
    int _parked;

    /// <summary>
    /// Marks the holder of <see cref="Lock"/> as waiting on another node or on etcd until the
    /// result is disposed, touching neither the writer nor the store meanwhile, so that
    /// <see cref="UnderLockOrParked"/> need not wait for it. Disposing waits for such work to end.
    /// </summary>
    public ParkedScope Park()
    {
        lock (_parkGate) _parked++;
        return new ParkedScope(this);
    }

    public readonly struct ParkedScope(NodePartition partition) : IDisposable
    {
        public void Dispose()
        {
            lock (partition._parkGate) partition._parked--;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the writer under <see cref="Lock"/>, or without it while its
    /// holder is parked (a write waiting on its backups): fencing retires the regions at once,
    /// however long the backups take.
    /// </summary>
    public void UnderLockOrParked(Action<PartitionWriter> work)
    {
        while (true)
        {
            if (Lock.TryEnter(TimeSpan.FromMilliseconds(1)))
            {
                try
                {
                    work(Writer);
                }
                finally
                {
                    Lock.Exit();
                }
                return;
            }
            lock (_parkGate)
            {
                if (_parked > 0)
                {
                    work(Writer);
                    return;
                }
            }
        }
    }

    public PartitionStats Stats
    {
        get
        {
            lock (Lock) return Writer.Stats;
        }
    }

    public void Dispose()
    {
        lock (Lock) Writer.Dispose();
    }
}
