using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdmaKv.Core;

namespace RdmaKv.Admin;

/// <summary>
/// <c>GET /api/cluster/nodes</c>: every node of the cluster as this node sees it, asked over each
/// node's admin plane (from the server, so the dashboard needs no cross-origin requests): up or
/// not, keys, puts per second, slots owned. The dashboard of any node shows them all.
/// </summary>
static class ClusterEndpoints
{
    static readonly HttpClient Peers = new() { Timeout = TimeSpan.FromSeconds(2) };

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cluster/nodes", async (NodeHolder holder, CancellationToken cancel) =>
        {
            var node = holder.Node;
            if (node is null) return Problems.Result(StatusCodes.Status503ServiceUnavailable, "the node is starting or stopping; try again shortly", "Node not available");
            var map = node.ClusterMap;
            if (map is null) return Problems.Result(StatusCodes.Status409Conflict, "this node is not in a cluster", "Not in a cluster");
            var rows = await Task.WhenAll(map.Nodes.Select(async n =>
            {
                int owned = map.Owners.Count(o => o == n.Id);
                if (n.Id == node.NodeId)
                {
                    var counters = node.Counters();
                    return new NodeRow(n.Id, n.Ucx, n.Admin, owned, true, true, counters.GetValueOrDefault(StatNames.Keys), counters.GetValueOrDefault(StatNames.Puts), null);
                }
                if (n.Admin is null) return new NodeRow(n.Id, n.Ucx, null, owned, false, false, null, null, "no admin URL in the cluster map");
                // Whatever the map holds, only an http(s) URL is asked or linked.
                if (!Uri.TryCreate(n.Admin, UriKind.Absolute, out var admin) || (admin.Scheme != Uri.UriSchemeHttp && admin.Scheme != Uri.UriSchemeHttps))
                    return new NodeRow(n.Id, n.Ucx, null, owned, false, false, null, null, "the admin URL in the cluster map is not an http or https URL");
                try
                {
                    var stats = await Peers.GetFromJsonAsync<JsonElement>(new Uri(admin, "api/stats"), cancel);
                    return new NodeRow(n.Id, n.Ucx, n.Admin, owned, true, false, stats.GetProperty("keys").GetInt64(), stats.GetProperty("operations").GetProperty("puts").GetInt64(), null);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException or UriFormatException or FormatException)
                {
                    return new NodeRow(n.Id, n.Ucx, n.Admin, owned, false, false, null, null, e.Message);
                }
            }));
            return TypedResults.Ok(new { epoch = map.Epoch, slotCount = map.SlotCount, nodes = rows });
        });
    }

    sealed record NodeRow(string Id, string Ucx, string? Admin, int Slots, bool Up, bool Self, long? Keys, long? Puts, string? Error);
}
