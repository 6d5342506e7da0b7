using RdmaKv.Client;

namespace RdmaKv.Cli;

/// <summary>
/// <c>rdmakv stats</c>: a node's counters, one "name value" a line. For a cluster, each node of
/// the map first (<c>node ID up|unreachable ADDRESS</c>), then <c>slots</c> and the node counts,
/// then the counters of the nodes that answered, added up; a node that did not answer is named
/// on standard error and makes the exit code 3, so a script never mistakes part of a cluster for all of it.
/// </summary>
static class StatsVerb
{
    public static int Print(KvClient client)
    {
        if (client.SlotCount == 0)
        {
            foreach (var (name, n) in client.Stats().OrderBy(s => s.Key, StringComparer.Ordinal)) Console.WriteLine($"{name} {n}");
            return ExitCode.Done;
        }
        var nodes = client.StatsByNode();
        foreach (var node in nodes)
            Console.WriteLine($"node {node.Node} {(node.Reached ? "up" : "unreachable")} {(node.Address is null ? "" : "ucx://" + node.Address)}".TrimEnd());
        Console.WriteLine($"slots {client.SlotCount}");
        Console.WriteLine($"nodes {nodes.Count}");
        Console.WriteLine($"nodes_unreachable {nodes.Count(n => !n.Reached)}");
        var sum = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in nodes.Where(n => n.Reached))
            foreach (var (name, n) in node.Counters!) sum[name] = sum.GetValueOrDefault(name) + n;
        foreach (var (name, n) in sum) Console.WriteLine($"{name} {n}");
        foreach (var node in nodes.Where(n => !n.Reached))
            Console.Error.WriteLine($"rdmakv: node {node.Node} (ucx://{node.Address}) did not answer; its counters are left out: {node.Error?.ReplaceLineEndings(" ")}");
        return nodes.All(n => n.Reached) ? ExitCode.Done : ExitCode.Unreachable;
    }
}
