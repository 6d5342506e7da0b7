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
    /// until it is applied here, including the wait for its backups, and by a slot move's switch
    /// (also while it waits on etcd). The replica writes this node applies for other primaries take
    /// only <see cref="Lock"/>, so two primaries that back each other never wait on each other's
    /// locks (<c>CrossReplicationTests</c>), and fencing, which takes only <see cref="Lock"/>,
    /// never waits for a write's backups or a switch's etcd (<c>FencedPrimaryTests</c>).
    /// </summary>
    public Lock Order { get; } = new();
    public PartitionWriter Writer { get; } = writer;

    /// <summary>The partition's handle on the durable store; used only under <see cref="Lock"/>.</summary>
    public StoreSession Store { get; } = store;

    /// <summary>The newest map epoch for which this partition's region was retired because the node gave a slot away; used only under <see cref="Lock"/>.</summary>
    public long RetiredForEpoch { get; set; }

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
