using System.CommandLine;
using System.Text.Json;

namespace RdmaKv.Cli;

/// <summary>
/// <c>rdmakv cluster show|move|rebalance</c> (and <c>init</c>, see <see cref="ClusterInit"/>): read the map from any node's admin plane, and ask a
/// slot's owner (at its admin URL from the map) to move it. The admin token must be valid on
/// the owners: the nodes of a cluster share one (--admin-token-file on the server).
/// </summary>
static class ClusterVerbs
{
    public static Command Create(Option<string> admin, Option<string> tokenFile)
    {
        var show = new Command("show", "print the cluster map: epoch, slots, and each node: up or down (its etcd lease and whether its admin plane answers), the slots it leads and backs, whether it serves, its replication lag, its admin URL");
        show.SetAction(p => Show(p.GetValue(admin)!));

        var slot = new Argument<int>("slot") { Description = "the slot number (0 to slots - 1)" };
        var node = new Argument<string>("node") { Description = "the id of the node to move it to" };
        var move = new Command("move", "move a slot to another node while clients keep using it") { slot, node };
        move.SetAction(p => Move(p.GetValue(admin)!, p.GetValue(tokenFile)!, p.GetValue(slot), p.GetValue(node)!));

        var dryRun = new Option<bool>("--dry-run") { Description = "print the moves without making them" };
        var rebalance = new Command("rebalance", "move slots until every node owns the same number (within one)") { dryRun };
        rebalance.SetAction(p => Rebalance(p.GetValue(admin)!, p.GetValue(tokenFile)!, p.GetValue(dryRun)));

        return new Command("cluster", "the cluster map and slot moves (through the admin plane); init seeds a new cluster's map in etcd") { show, move, rebalance, ClusterInit.Create() };
    }

    /// <summary>The map as the admin plane shows it; <paramref name="Backups"/> is empty per slot off etcd.</summary>
    sealed record Map(long Epoch, string[] Owners, string[][] Backups, (string Id, string? Admin)[] Nodes);

    static Map? Fetch(string adminUrl, out int code)
    {
        code = AdminCall.Get(adminUrl, "/api/cluster", out string? body);
        if (code != 0) return null;
        using var doc = JsonDocument.Parse(body!);
        var root = doc.RootElement;
        if (!root.TryGetProperty("owners", out var owners))
        {
            Console.Error.WriteLine($"rdmakv: the node at {adminUrl} is not in a cluster");
            code = 2;
            return null;
        }
        string[] ownerIds = [.. owners.EnumerateArray().Select(o => o.GetString()!)];
        string[][] backups = root.TryGetProperty("backups", out var b) && b.ValueKind == JsonValueKind.Array
            ? [.. b.EnumerateArray().Select(slot => slot.EnumerateArray().Select(n => n.GetString()!).ToArray())]
            : [.. ownerIds.Select(_ => Array.Empty<string>())];
        return new Map(
            root.GetProperty("epoch").GetInt64(),
            ownerIds,
            backups,
            [.. root.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("id").GetString()!, n.TryGetProperty("admin", out var a) ? a.GetString() : null))]);
    }

    static int Show(string adminUrl)
    {
        var map = Fetch(adminUrl, out int code);
        return map is null ? code : ClusterShow.Run(adminUrl, map.Epoch, map.Owners, map.Nodes);
    }

    static string State(IReadOnlyDictionary<string, (bool Up, string? Error)>? up, string id) =>
        up is null || !up.TryGetValue(id, out var node) ? "?" : node.Up ? "up" : node.Error is { } why ? $"down ({why})" : "down";

    /// <summary>
    /// Whether each node's admin plane answers, as the node at <paramref name="adminUrl"/> finds
    /// (<c>/api/cluster/nodes</c>), with why not; null when it cannot tell (then the states print as "?").
    /// </summary>
    static Dictionary<string, (bool Up, string? Error)>? Liveness(string adminUrl)
    {
        if (AdminCall.Get(adminUrl, "/api/cluster/nodes", out string? body) != 0) return null;
        using var doc = JsonDocument.Parse(body!);
        return doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(
            n => n.GetProperty("id").GetString()!,
            n => (n.GetProperty("up").GetBoolean(), n.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null),
            StringComparer.Ordinal);
    }

    /// <summary>
    /// <see cref="Liveness"/>, asked up to three times a second apart while a node seems down: a
    /// node's admin plane that is slow to answer once (a loaded machine, a node just started) is
    /// not a node that is down.
    /// </summary>
    static Dictionary<string, (bool Up, string? Error)>? SettledLiveness(string adminUrl)
    {
        var up = Liveness(adminUrl);
        for (int attempt = 1; attempt < 3 && up is not null && up.Values.Any(n => !n.Up); attempt++)
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            up = Liveness(adminUrl);
        }
        return up;
    }

    static int Move(string adminUrl, string tokenFile, int slot, string node)
    {
        var map = Fetch(adminUrl, out int code);
        if (map is null) return code;
        return MoveOne(map, adminUrl, tokenFile, slot, node);
    }

    static int MoveOne(Map map, string adminUrl, string tokenFile, int slot, string node)
    {
        if ((uint)slot >= (uint)map.Owners.Length)
        {
            return ExitCode.UsageError($"slot {slot} is not between 0 and {map.Owners.Length - 1}");
        }
        string owner = map.Owners[slot];
        string ownerAdmin = map.Nodes.FirstOrDefault(n => n.Id == owner).Admin ?? adminUrl;
        return AdminCall.Post(ownerAdmin, tokenFile, "/api/cluster/move", new { slot, node });
    }

    /// <summary>How often rebalance plans again when the map changed under it (a failover, another operator's move).</summary>
    const int Replans = 3;

    static int Rebalance(string adminUrl, string tokenFile, bool dryRun)
    {
        var map = Fetch(adminUrl, out int code);
        if (map is null) return code;
        var up = SettledLiveness(adminUrl);
        foreach (var (id, _) in map.Nodes) Console.WriteLine($"node {id} {State(up, id)}");
        var down = map.Nodes.Select(n => n.Id).Where(id => up is null || !up.TryGetValue(id, out var node) || !node.Up).ToList();
        for (int round = 0; ; round++)
        {
            var moves = Plan(map.Owners, map.Backups, [.. map.Nodes.Select(n => n.Id)]);
            if (moves.Count == 0)
            {
                Console.WriteLine("balanced: nothing to move");
                return 0;
            }
            if (!dryRun && down.Count > 0)
            {
                // A move needs its owner and its target to answer; one that stops halfway leaves a slot to retry.
                Console.Error.WriteLine($"rdmakv: not rebalancing: {string.Join(", ", down)} {(down.Count == 1 ? "is" : "are")} down or unknown; bring {(down.Count == 1 ? "it" : "them")} back first (--dry-run shows the plan)");
                return ExitCode.Unreachable;
            }
            int result = Run(map, moves, adminUrl, tokenFile, dryRun, out long epoch);
            if (result == 0 || dryRun) return result;
            // A move was refused: when the map changed meanwhile (beyond the moves made), plan again from it.
            var now = Fetch(adminUrl, out code);
            if (now is null) return result;
            if (now.Epoch <= epoch || round == Replans) return result;
            Console.WriteLine($"the map changed meanwhile (epoch {now.Epoch}): planning again");
            map = now;
        }
    }

    /// <summary>Makes <paramref name="moves"/> one by one; stops at the first that fails. <paramref name="epoch"/>: the map's epoch after the last move made.</summary>
    static int Run(Map map, List<(int Slot, string From, string To, bool HandOver)> moves, string adminUrl, string tokenFile, bool dryRun, out long epoch)
    {
        epoch = map.Epoch;
        var owners = map.Owners.ToArray();
        foreach (var (slot, from, to, handOver) in moves)
        {
            Console.WriteLine(handOver
                ? $"{(dryRun ? "would hand" : "handing")} slot {slot} from {from} to {to} (its backup: they swap roles, nothing is copied)"
                : $"{(dryRun ? "would move" : "moving")} slot {slot} from {from} to {to}");
            if (dryRun) continue;
            int result = MoveOne(map with { Owners = owners }, adminUrl, tokenFile, slot, to);
            if (result != 0) return result;
            owners[slot] = to;
            epoch++;
        }
        return 0;
    }

    /// <summary>
    /// Moves from the node leading the most slots to the one leading the fewest, until they differ
    /// by at most one. A slot the receiving node already backs is taken first: the two swap roles
    /// (a hand-over) and nothing is copied, so primaries go back to a node that rejoined as a backup.
    /// </summary>
    public static List<(int Slot, string From, string To, bool HandOver)> Plan(string[] owners, string[][] backups, string[] nodes)
    {
        var counts = nodes.ToDictionary(n => n, n => owners.Count(o => o == n));
        var moves = new List<(int, string, string, bool)>();
        var current = owners.ToArray();
        var copies = backups.Select(b => b.ToArray()).ToArray();
        while (true)
        {
            string most = counts.MaxBy(c => c.Value).Key, least = counts.MinBy(c => c.Value).Key;
            if (counts[most] - counts[least] <= 1) return moves;
            int slot = Enumerable.Range(0, current.Length).LastOrDefault(s => current[s] == most && copies[s].Contains(least), -1);
            bool handOver = slot >= 0;
            if (handOver) copies[slot][Array.IndexOf(copies[slot], least)] = most;
            else slot = Array.LastIndexOf(current, most);
            current[slot] = least;
            counts[most]--;
            counts[least]++;
            moves.Add((slot, most, least, handOver));
        }
    }
}
