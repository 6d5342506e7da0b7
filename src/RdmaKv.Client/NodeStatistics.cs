namespace RdmaKv.Client;

/// <summary>
/// One node's counters as <see cref="KvClient.StatsByNode"/> found them: <see cref="Counters"/>
/// when the node answered, else null and <see cref="Error"/> says why.
/// </summary>
/// <param name="Node">The node's id in the cluster map, or the name of a node on its own.</param>
/// <param name="Address">Where the client reaches it (<c>HOST:PORT</c> for UCX), or null for a local node.</param>
/// <param name="AdminUrl">Its admin plane as the cluster map names it, or null.</param>
/// <param name="Counters">The node's counters, or null when it did not answer.</param>
/// <param name="Error">Why the node did not answer, or null.</param>
public sealed record NodeStatistics(string Node, string? Address, string? AdminUrl, IReadOnlyDictionary<string, long>? Counters, string? Error)
{
    /// <summary>True when the node answered.</summary>
    public bool Reached => Counters is not null;
}
