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
    public Lock Lock { get; } = new();
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
