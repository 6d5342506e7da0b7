using RdmaKv.Admin;
using RdmaKv.Core;

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
        List<ReadinessCheck> checks =
        [
            // The node exists only once Start has recovered the store and rebuilt the regions.
            new ReadinessCheck("recovery", true, $"finished: {Recovery.Describe()}"),
            // The name, not the socket's path: readiness is shown without the admin token.
            new ReadinessCheck("local transport", running, running ? $"listening for local:{Name}" : "stopping"),
            .. Volatile.Read(ref _transports).Select(t => t.Readiness),
        ];
        if (_coordination is { } coordination)
        {
            var map = _cluster;
            checks.Add(new ReadinessCheck("serving", !_fenced, _fenced ? $"not serving: {FenceReason}" : $"serving under map epoch {map?.Epoch}"));
            checks.Add(coordination.Connected
                ? new ReadinessCheck("coordination", true, $"etcd answers; controller: node {coordination.Controller ?? "(none elected)"}")
                : new ReadinessCheck("coordination", true, $"etcd is out of reach ({coordination.Problem}): reads and writes go on under map epoch {map?.Epoch}, but no failover can happen until it answers", Degraded: true));
        }
        return checks;
    }

    string? IAdminNode.NodeId => Options.NodeId;

    Core.Cluster.ClusterMap? IAdminNode.ClusterMap => Cluster;

    ReplicationStatus? IAdminNode.Replication => _coordination is { } c
        ? new ReplicationStatus(c.Connected, c.Problem, c.Controller, [.. c.LiveMembers.Keys.Order(StringComparer.Ordinal)], !_fenced, FenceReason,
            c.IsController ? _controller?.Unavailable : null, _controller?.LastFailover)
        : null;

    CheckpointResult IAdminNode.Checkpoint()
    {
        var report = Checkpoint();
        return new CheckpointResult(report.Token, report.LogStart, report.TruncatedUntil, Math.Round(report.Elapsed.TotalMilliseconds, 2));
    }

    StoreStatus IAdminNode.Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt)
    {
        Interlocked.Increment(ref Counters.AdminPuts);
        return Put(key, value, expiresAt);
    }

    StoreStatus IAdminNode.Delete(ReadOnlySpan<byte> key)
    {
        Interlocked.Increment(ref Counters.AdminDeletes);
        return Delete(key);
    }

    /// <summary>Answers through the same path as a client's fallback GET, so the admin plane sees what clients see.</summary>
    StoreStatus IAdminNode.Get(ReadOnlySpan<byte> key, out byte[]? value, out long expiresAt)
    {
        Interlocked.Increment(ref Counters.AdminGets);
        return Read(key, out value, out expiresAt);
    }
}
