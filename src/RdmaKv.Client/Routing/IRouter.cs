namespace RdmaKv.Client.Routing;

/// <summary>
/// Where a client sends each key: to the node it connected to, or to the owner of the key's slot
/// in a cluster. Every call of <see cref="KvClient"/> goes through a router with the same retries;
/// a router with nowhere else to send a key (one node) gives none.
/// </summary>
interface IRouter : IDisposable
{
    /// <summary>What routes are chosen by (the cluster map). A call that sees it change while it ran checks its route again.</summary>
    object Version { get; }

    NodeRoute Route(ReadOnlySpan<byte> key);

    /// <summary>How often a call follows WrongSlot to a newer map before the caller sees it; 0 when there is no map.</summary>
    int MovedRetries { get; }

    /// <summary>After a WrongSlot from <paramref name="from"/>: fetches the map, or waits when no newer one is out yet.</summary>
    void Redirected(NodeRoute from, int attempt);

    /// <summary>After a connection failure on <paramref name="failed"/>: true when another node's map is newer, so the call is worth retrying.</summary>
    bool Rerouted(NodeRoute failed);

    /// <summary>The route that hears what no key chooses a node for (a thread's read counters on demand).</summary>
    NodeRoute Home { get; }

    string NodeName { get; }

    /// <summary>The cluster map's epoch; 0 for a node on its own.</summary>
    long Epoch { get; }

    /// <summary>The counters of the node, or of every node that answers added up.</summary>
    IReadOnlyDictionary<string, long> Stats();

    /// <summary>Each node's counters, or why it did not answer.</summary>
    IReadOnlyList<NodeStatistics> StatsByNode();

    /// <summary>The cluster map's slot count; 0 for a node on its own.</summary>
    int SlotCount { get; }
}
