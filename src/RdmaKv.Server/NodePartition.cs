using RdmaKv.Core;

namespace RdmaKv.Server;

/// <summary>
/// One partition on a node: its writer and the lock that makes it the only writer. The thread
/// that received a request applies it under the lock; handing it to a writer thread would cost a
/// cross-core wake-up (~40 us here) per write.
/// </summary>
public sealed class NodePartition(PartitionWriter writer) : IDisposable
{
    public Lock Lock { get; } = new();
    public PartitionWriter Writer { get; } = writer;

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
