using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Admin;

/// <summary>
/// What the admin plane sees of a storage node and may ask of it. The server's StorageNode
/// implements it; the admin plane has no reference to the server, so the server can host it.
/// </summary>
public interface IAdminNode
{
    string Name { get; }

    /// <summary>Where the node keeps its durable state; the admin token lives there too.</summary>
    string DataDirectory { get; }

    DateTimeOffset StartedAt { get; }

    /// <summary>The node's counters by name (monotonic totals and current gauges).</summary>
    IReadOnlyDictionary<string, long> Counters();

    IReadOnlyList<PartitionStats> PartitionStats();

    /// <summary>Request latencies measured by the node, by operation ("put", "delete", ...).</summary>
    IReadOnlyList<(string Operation, LatencyHistogram Histogram)> Latencies { get; }

    RecentErrorLog RecentErrors { get; }

    /// <summary>Who the node is and where its partitions' regions are: its view of the cluster.</summary>
    NodeView View();

    /// <summary>Each condition the node needs before it serves (recovery done, transports listening).</summary>
    IReadOnlyList<ReadinessCheck> Readiness();

    /// <summary>A put; with <paramref name="expiresAt"/> (milliseconds since 1970, UTC; 0 for none) the key reads as absent from then on.</summary>
    StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0);

    StoreStatus Delete(ReadOnlySpan<byte> key);

    /// <summary>Takes a checkpoint of the node's durable store now; throws when it cannot.</summary>
    CheckpointResult Checkpoint();

    /// <summary>This node's id in its cluster, or null for a node on its own.</summary>
    string? NodeId { get; }

    /// <summary>The cluster map this node routes by, or null for a node on its own.</summary>
    Core.Cluster.ClusterMap? ClusterMap { get; }

    /// <summary>Replication and failover as this node sees them; null without etcd.</summary>
    ReplicationStatus? Replication { get; }

    /// <summary>
    /// Moves a slot this node owns to another node while clients keep using it; returns a
    /// report. Throws <see cref="InvalidOperationException"/> when this node does not own it or the
    /// move stopped, <see cref="ArgumentException"/> for a bad slot or node.
    /// </summary>
    Core.Cluster.MoveReport MoveSlot(int slot, string node);

    /// <summary><see cref="StoreStatus.Ok"/> with the value, <see cref="StoreStatus.NotFound"/>, or why the key is invalid.</summary>
    StoreStatus Get(ReadOnlySpan<byte> key, out byte[]? value) => Get(key, out value, out _);

    /// <summary>As <see cref="Get(ReadOnlySpan{byte}, out byte[])"/>, with the value's expiry (milliseconds since 1970, UTC; 0 for none).</summary>
    StoreStatus Get(ReadOnlySpan<byte> key, out byte[]? value, out long expiresAt);
}

/// <summary>
/// One condition of readiness: its name, whether it holds, and what it is doing otherwise.
/// <paramref name="Degraded"/>: it holds, but something the operator should know is wrong (the
/// node still serves; /health/ready answers 200 with status Degraded).
/// </summary>
public sealed record ReadinessCheck(string Name, bool Ready, string Detail, bool Degraded = false);

/// <summary>
/// What a node of a cluster coordinated by etcd reports: whether etcd answers (without it no
/// failover can happen), the controller, the live nodes (their leases), whether this node serves
/// and why not, slots with no live copy (as the controller last saw them, on the controller only)
/// and the controller's last failover.
/// </summary>
public sealed record ReplicationStatus(bool EtcdConnected, string? EtcdProblem, string? Controller, IReadOnlyList<string> LiveNodes, bool Serving,
    string? NotServing, IReadOnlyList<int>? UnavailableSlots, string? LastFailover);

/// <summary>A checkpoint taken on request: its id, the log address it covers, and how long it took.</summary>
public sealed record CheckpointResult(Guid Id, long LogStart, long LogKeptFrom, double ElapsedMs);
