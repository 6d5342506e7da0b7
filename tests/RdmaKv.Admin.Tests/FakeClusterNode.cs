using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Protocol;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// An <see cref="IAdminNode"/> with no storage behind it: a cluster member whose map, replication
/// status and counters a test sets, for what the admin plane shows of a cluster.
/// </summary>
sealed class FakeClusterNode(string id) : IAdminNode
{
    public string Name => "fake-" + id;
    public string DataDirectory => Path.GetTempPath();
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public Dictionary<string, long> CounterValues { get; } = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, long> Counters() => new Dictionary<string, long>(CounterValues, StringComparer.Ordinal);
    public IReadOnlyList<PartitionStats> PartitionStats() => [];
    public LatencyHistogram PutLatency { get; } = new();
    public IReadOnlyList<(string Operation, LatencyHistogram Histogram)> Latencies => [("put", PutLatency)];
    public RecentErrorLog RecentErrors { get; } = new();
    public NodeView View() => new(Wire.ProtocolVersion, Name, 0, 0, []);
    public IReadOnlyList<ReadinessCheck> Readiness() => [];
    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt) => StoreStatus.BadRequest;
    public StoreStatus Delete(ReadOnlySpan<byte> key) => StoreStatus.BadRequest;

    public StoreStatus Get(ReadOnlySpan<byte> key, out byte[]? value, out long expiresAt)
    {
        value = null;
        expiresAt = 0;
        return StoreStatus.NotFound;
    }

    public CheckpointResult Checkpoint() => throw new InvalidOperationException("a fake node takes no checkpoints");
    public MoveReport MoveSlot(int slot, string node) => throw new InvalidOperationException("a fake node moves no slots");
    public string? NodeId => id;
    public ClusterMap? ClusterMap { get; set; }
    public ReplicationStatus? Replication { get; set; }

    /// <summary>A node that serves (or not), seeing <paramref name="live"/> as the members whose leases hold.</summary>
    public static ReplicationStatus Status(bool serving, string[] live, string? notServing = null) =>
        new(EtcdConnected: true, EtcdProblem: null, Controller: live.FirstOrDefault(), LiveNodes: live, Serving: serving,
            NotServing: notServing, UnavailableSlots: null, LastFailover: null);
}
