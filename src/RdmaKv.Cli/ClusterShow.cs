using System.Text.Json;

namespace RdmaKv.Cli;

/// <summary>
/// <c>rdmakv cluster show</c>: the map's epoch and, per node, whether it is up, the slots it leads
/// and backs, its etcd lease, whether it serves and its replication lag, as the asked node finds
/// them (<c>/api/cluster/nodes</c>). A node that cannot tell prints "?" where it lacks an answer.
/// </summary>
static class ClusterShow
{
    /// <summary>One node's row; null fields are unknown (no answer, or no etcd).</summary>
    sealed record Row(string Id, int Leads, int? Backs, bool? Up, string? Lease, bool? Serving, string? NotServing, string? Lag, string? Admin, string? Error);

    public static int Run(string adminUrl, long epoch, string[] owners, (string Id, string? Admin)[] nodes)
    {
        // The rows come with the epoch they were read under, which may be newer than the map's.
        var (rows, replicas, shortOfReplicas, rowsEpoch) = Ask(adminUrl, owners, nodes);
        Console.WriteLine($"epoch {rowsEpoch ?? epoch}, {owners.Length} slots" +
            (replicas > 1 ? $", {replicas} copies each" + (shortOfReplicas > 0 ? $" ({shortOfReplicas} slots have fewer until re-replication copies them)" : "") : ""));
        Console.WriteLine($"{"ID",-16} {"STATE",-5} {"LEADS",12} {"BACKS",5}  {"LEASE",-8} {"SERVING",-7} {"LAG",-12} ADMIN URL");
        foreach (var r in rows)
        {
            Console.WriteLine($"{r.Id,-16} {State(r),-5} {r.Leads,6} slots {Text(r.Backs),5}  {r.Lease ?? "-",-8} {Text(r.Serving),-7} {Lag(r.Lag, r),-12} {r.Admin ?? "(no admin URL)"}");
        }
        foreach (var r in rows)
        {
            if (r.Serving == false) Console.WriteLine($"  {r.Id} does not serve: {r.NotServing ?? "(no reason given)"}");
            if (r.Error is not null) Console.WriteLine($"  {r.Id}: its admin plane did not answer: {r.Error}");
        }
        Console.WriteLine("STATE is down when the node's etcd lease expired (LEASE, as the asked node sees etcd) or its admin plane did not answer.");
        Console.WriteLine("LAG: writes a node lacks. Replication is synchronous (a primary acknowledges a write once every backup in the map applied it),");
        Console.WriteLine("so a backup is 0 behind; a node being copied to joins the map as a backup once its copy is done and shows \"no copy\" until then.");
        return 0;
    }

    /// <summary>Up only when everything the asked node sees says so; "?" when it could not tell.</summary>
    public static string State(bool? up, string? lease) =>
        up is null ? "?" : up.Value && lease != "expired" ? "up" : "down";

    static string State(Row r) => State(r.Up, r.Lease);

    static string Text(int? n) => n?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";

    static string Text(bool? serving) => serving switch { true => "yes", false => "no", null => "?" };

    static string Lag(string? lag, Row r) => lag switch
    {
        "synchronous" => "0 (sync)",
        "primary" => "0 (primary)",
        "no copy" => "no copy",
        null when r.Up is null => "?",
        null => "-",
        _ => lag,
    };

    static (List<Row> Rows, int Replicas, int ShortOfReplicas, long? Epoch) Ask(string adminUrl, string[] owners, (string Id, string? Admin)[] nodes)
    {
        if (AdminCall.Get(adminUrl, "/api/cluster/nodes", out string? body) == 0)
        {
            using var doc = JsonDocument.Parse(body!);
            var root = doc.RootElement;
            var rows = root.GetProperty("nodes").EnumerateArray().Select(n => new Row(
                n.GetProperty("id").GetString()!,
                n.GetProperty("slots").GetInt32(),
                n.TryGetProperty("backs", out var backs) && backs.ValueKind == JsonValueKind.Number ? backs.GetInt32() : null,
                n.GetProperty("up").GetBoolean(),
                String(n, "lease"),
                n.TryGetProperty("serving", out var serving) && serving.ValueKind is JsonValueKind.True or JsonValueKind.False ? serving.GetBoolean() : null,
                String(n, "notServing"),
                String(n, "lag"),
                String(n, "admin"),
                String(n, "error"))).ToList();
            return (rows, Int(root, "replicas") ?? 1, Int(root, "slotsShortOfReplicas") ?? 0,
                root.TryGetProperty("epoch", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt64() : null);
        }
        // The asked node could not list its peers: the map alone, every state unknown.
        return ([.. nodes.Select(n => new Row(n.Id, owners.Count(o => o == n.Id), null, null, null, null, null, null, n.Admin, null))], 1, 0, null);
    }

    static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
}
