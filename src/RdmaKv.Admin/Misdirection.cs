using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Admin;

/// <summary>
/// A key request to a cluster member that does not own the key's slot: 421 Misdirected Request
/// (RFC 9110, 15.5.20) whose problem names the owner, its admin URL and the same request's URL
/// there (<c>location</c>, also the <c>Location</c> header), the slot and the map's epoch. The
/// node is never asked: it would answer "not found" for a key it does not hold, and refuse a write.
/// </summary>
static class Misdirection
{
    /// <summary>Null when this node owns the key's slot or is on its own; else the 421 answer.</summary>
    public static IResult? Check(HttpContext http, IAdminNode node, ReadOnlySpan<byte> key)
    {
        var map = node.ClusterMap;
        if (map is null || node.NodeId is null) return null;
        int slot = map.SlotOf(key);
        string owner = map.Owners[slot];
        return owner == node.NodeId ? null : Answer(http, map, slot, owner);
    }

    /// <summary>The 421 for a write the node refused as WrongSlot (the slot moved while the request ran).</summary>
    public static IResult Moved(HttpContext http, IAdminNode node, ReadOnlySpan<byte> key)
    {
        var map = node.ClusterMap!;
        int slot = map.SlotOf(key);
        return Answer(http, map, slot, map.Owners[slot]);
    }

    static IResult Answer(HttpContext http, ClusterMap map, int slot, string owner)
    {
        // Only an http(s) URL is handed on, whatever the map holds.
        string? admin = map.Node(owner)?.Admin is { } url && ClusterMap.IsAdminUrl(url) ? url.TrimEnd('/') : null;
        string target = http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw
            : http.Request.PathBase.Add(http.Request.Path).ToUriComponent() + http.Request.QueryString;
        string? location = admin is null ? null : admin + target;
        if (location is not null) http.Response.Headers.Location = location;
        string detail = admin is null
            ? $"slot {slot} of this key is owned by node {owner} (epoch {map.Epoch}), which has no admin URL in the cluster map"
            : $"slot {slot} of this key is owned by node {owner} (epoch {map.Epoch}): ask its admin plane at {admin}";
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status421MisdirectedRequest, title: "Key owned by another node",
            extensions: new Dictionary<string, object?>
            {
                ["owner"] = owner,
                ["ownerAdmin"] = admin,
                ["location"] = location,
                ["slot"] = slot,
                ["epoch"] = map.Epoch,
            });
    }
}
