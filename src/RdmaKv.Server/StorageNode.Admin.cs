using System.Buffers;
using RdmaKv.Admin;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Server;

/// <summary>What the admin plane sees of a node and may ask of it (<see cref="IAdminNode"/>).</summary>
public sealed partial class StorageNode : IAdminNode
{
    public string Name => Options.Name;

    public string DataDirectory => Options.DataDirectory;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    IReadOnlyDictionary<string, long> IAdminNode.Counters() => Stats();

    IReadOnlyList<PartitionStats> IAdminNode.PartitionStats() => [.. _partitions.Select(p => p.Stats)];

    IReadOnlyList<(string Operation, LatencyHistogram Histogram)> IAdminNode.Latencies => Counters.Latencies;

    RecentErrorLog IAdminNode.RecentErrors => Counters.RecentErrors;

    /// <summary>The listeners besides the local one whose state readiness includes (<see cref="NodeHost"/> adds those it starts).</summary>
    INodeListener[] _transports = [];
    readonly Lock _transportsGate = new();

    /// <summary>Includes <paramref name="listener"/>'s own readiness in <see cref="Readiness"/> (the local transport is the node's own check).</summary>
    internal void ReportsReadiness(INodeListener listener)
    {
        if (listener.Transport == "local") return;
        lock (_transportsGate) _transports = [.. _transports, listener];
    }

    /// <summary>
    /// The conditions under which the node serves: recovery finished, its local transport
    /// listens (from the end of <see cref="Start"/> until <see cref="Dispose"/> begins), and every
    /// other transport it was started with takes clients (UCX: its accept loop and progress thread run).
    /// </summary>
    public IReadOnlyList<ReadinessCheck> Readiness()
    {
        bool running = Volatile.Read(ref _disposed) == 0;
        return
        [
            // The node exists only once Start has recovered the store and rebuilt the regions.
            new ReadinessCheck("recovery", true, $"finished: {Recovery.Describe()}"),
            // The name, not the socket's path: readiness is shown without the admin token.
            new ReadinessCheck("local transport", running, running ? $"listening for local:{Name}" : "stopping"),
            .. Volatile.Read(ref _transports).Select(t => t.Readiness),
        ];
    }

    string? IAdminNode.NodeId => Options.NodeId;

    Core.Cluster.ClusterMap? IAdminNode.ClusterMap => Cluster;

    CheckpointResult IAdminNode.Checkpoint()
    {
        var report = Checkpoint();
        return new CheckpointResult(report.Token, report.LogStart, report.TruncatedUntil, Math.Round(report.Elapsed.TotalMilliseconds, 2));
    }

    StoreStatus IAdminNode.Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Interlocked.Increment(ref Counters.AdminPuts);
        return Put(key, value);
    }

    StoreStatus IAdminNode.Delete(ReadOnlySpan<byte> key)
    {
        Interlocked.Increment(ref Counters.AdminDeletes);
        return Delete(key);
    }

    /// <summary>Answers through the same path as a client's fallback GET, so the admin plane sees what clients see.</summary>
    StoreStatus IAdminNode.Get(ReadOnlySpan<byte> key, out byte[]? value)
    {
        Interlocked.Increment(ref Counters.AdminGets);
        var reply = new ArrayBufferWriter<byte>(256);
        Get(key, 0, reply);
        // The encoder frames the reply: its length prefix comes first.
        if (!MessageDecoder.TryDecode(reply.WrittenMemory[Wire.LengthPrefix..], out var message, out string error))
            throw new InvalidOperationException($"the node encoded a GET reply it cannot decode: {error}");
        value = message.Status == StoreStatus.Ok && message.HasValue ? message.Value.ToArray() : null;
        return message.Status;
    }
}
