using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Admin;

/// <summary>
/// <c>GET /api/cluster/nodes</c>: every node of the cluster as this node sees it, asked over each
/// node's admin plane (from the server, so the dashboard needs no cross-origin requests): up or
/// not, the slots it leads and backs, its etcd lease, whether it serves, its replication lag,
/// keys, puts, operations per second and put latency. The dashboard of any node and
/// <c>rdmakv cluster show</c> show them all.
/// </summary>
/// <remarks>
/// <para><c>lease</c> is this node's view of the members in etcd: "live", "expired", or null
/// without etcd. <c>serving</c> and <c>notServing</c> are what each node says of itself (null when
/// it did not answer or runs without etcd).</para>
/// <para><c>lag</c> is not a count the node measures: replication is synchronous (a primary
/// acknowledges a write only after every backup in the map applied it), so a backup in the map is
/// behind by no acknowledged write. It is "synchronous" for a node that backs slots, "primary" for
/// one that only leads, "no copy" for one that holds no slot (a rejoining node being copied to
/// enters the map as a backup only when the copy is done, so it shows here until then), and null
/// for a node that is down (its lease expired or its admin plane did not answer).
/// <c>replicaWrites</c> and <c>replicaFailures</c> are the node's counters of writes it applied as
/// a backup and client writes it could not replicate.</para>
/// <para><c>opsPerSecond</c> is the node's <c>rates.operationsPerSecond</c>: puts, deletes and
/// GETs it served plus the one-sided GETs clients report reading from it, averaged over
/// <see cref="StatsSampler.OperationsWindow"/>. <c>putP99Us</c> is the 99th percentile of its put
/// latency over its last sampling interval (null when that interval had no puts); one-sided GETs
/// never reach the node, so it measures no latency of theirs.</para>
/// </remarks>
static class ClusterEndpoints
{
    static readonly HttpClient Peers = new() { Timeout = TimeSpan.FromSeconds(2) };

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cluster/nodes", async (NodeHolder holder, StatsSampler sampler, CancellationToken cancel) =>
        {
            var node = holder.Node;
            if (node is null) return Problems.Result(StatusCodes.Status503ServiceUnavailable, "the node is starting or stopping; try again shortly", "Node not available");
            var map = node.ClusterMap;
            if (map is null) return Problems.Result(StatusCodes.Status409Conflict, "this node is not in a cluster", "Not in a cluster");
            var live = node.Replication?.LiveNodes;
            var rows = await Task.WhenAll(map.Nodes.Select(n => Row(node, sampler, map, live, n, cancel)));
            int shortOfReplicas = map.SlotsShortOfCopies;
            return TypedResults.Ok(new { epoch = map.Epoch, slotCount = map.SlotCount, replicas = map.Replicas, slotsShortOfReplicas = shortOfReplicas, nodes = rows });
        });
    }

    static async Task<NodeRow> Row(IAdminNode self, StatsSampler sampler, ClusterMap map, IReadOnlyList<string>? live, ClusterNode n, CancellationToken cancel)
    {
        var row = new NodeRow(n.Id, n.Ucx, n.Admin,
            Slots: map.LedBy(n.Id),
            Backs: map.BackedBy(n.Id),
            Up: false, Self: false,
            Lease: live is null ? null : live.Contains(n.Id) ? "live" : "expired");
        if (n.Id == self.NodeId)
        {
            var counters = self.Counters();
            var replication = self.Replication;
            return WithLag(row with
            {
                Up = true,
                Self = true,
                Serving = replication?.Serving,
                NotServing = replication?.NotServing,
                Keys = counters.GetValueOrDefault(StatNames.Keys),
                Puts = counters.GetValueOrDefault(StatNames.Puts),
                ReplicaWrites = counters.GetValueOrDefault(StatNames.ReplicaWrites),
                ReplicaFailures = counters.GetValueOrDefault(StatNames.ReplicaFailures),
                OpsPerSecond = sampler.OperationsPerSecond(),
                PutP99Us = sampler.Latest?.Latency.GetValueOrDefault("put")?.P99Us,
            });
        }
        if (n.Admin is null) return WithLag(row with { Error = "no admin URL in the cluster map" });
        // Whatever the map holds, only an http(s) URL is asked or linked.
        if (!Uri.TryCreate(n.Admin, UriKind.Absolute, out var admin) || (admin.Scheme != Uri.UriSchemeHttp && admin.Scheme != Uri.UriSchemeHttps))
            return WithLag(row with { Admin = null, Error = "the admin URL in the cluster map is not an http or https URL" });
        var stats = Ask(new Uri(admin, "api/stats"), cancel);
        var cluster = Ask(new Uri(admin, "api/cluster"), cancel);
        var (statsBody, statsError) = await stats;
        var (clusterBody, _) = await cluster;
        if (statsBody is not { } s) return WithLag(row with { Error = statsError });
        try
        {
            row = row with
            {
                Up = true,
                Keys = s.GetProperty("keys").GetInt64(),
                Puts = s.GetProperty("operations").GetProperty("puts").GetInt64(),
                ReplicaWrites = Counter(s, StatNames.ReplicaWrites),
                ReplicaFailures = Counter(s, StatNames.ReplicaFailures),
                OpsPerSecond = Number(s, "rates", "operationsPerSecond"),
                PutP99Us = Number(s, "latestInterval", "put", "p99Us"),
            };
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return WithLag(row with { Error = $"its /api/stats is not what this node expects: {e.Message}" });
        }
        // Serving is what the node says of itself; a node that did not say is shown as unknown.
        if (clusterBody is { } c && c.TryGetProperty("replication", out var r) && r.ValueKind == JsonValueKind.Object
            && r.TryGetProperty("serving", out var serving) && serving.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            row = row with
            {
                Serving = serving.GetBoolean(),
                NotServing = r.TryGetProperty("notServing", out var why) && why.ValueKind == JsonValueKind.String ? why.GetString() : null,
            };
        }
        return WithLag(row);
    }

    static async Task<(JsonElement? Body, string? Error)> Ask(Uri uri, CancellationToken cancel)
    {
        try
        {
            return (await Peers.GetFromJsonAsync<JsonElement>(uri, cancel), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException or NotSupportedException or UriFormatException)
        {
            return (null, e.Message);
        }
    }

    static long? Counter(JsonElement stats, string name) =>
        stats.TryGetProperty("counters", out var counters) && counters.ValueKind == JsonValueKind.Object
        && counters.TryGetProperty(name, out var value) && value.TryGetInt64(out long n) ? n : null;

    /// <summary>The number at <paramref name="path"/> in a node's /api/stats; null where there is none (an older node, no sample yet).</summary>
    static double? Number(JsonElement stats, params string[] path)
    {
        foreach (string name in path)
        {
            if (stats.ValueKind != JsonValueKind.Object || !stats.TryGetProperty(name, out stats)) return null;
        }
        return stats.ValueKind == JsonValueKind.Number ? stats.GetDouble() : null;
    }

    /// <summary>The lag as the remarks above define it; null for a node that is down.</summary>
    static NodeRow WithLag(NodeRow row) => row with
    {
        Lag = !row.Up || row.Lease == "expired" ? null
            : row.Backs > 0 ? "synchronous"
            : row.Slots > 0 ? "primary"
            : "no copy",
    };

    sealed record NodeRow(string Id, string Ucx, string? Admin, int Slots, int Backs, bool Up, bool Self, string? Lease,
        bool? Serving = null, string? NotServing = null, string? Lag = null, long? Keys = null, long? Puts = null,
        long? ReplicaWrites = null, long? ReplicaFailures = null, double? OpsPerSecond = null, double? PutP99Us = null, string? Error = null);
}
