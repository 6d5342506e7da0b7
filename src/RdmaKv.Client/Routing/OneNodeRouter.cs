using RdmaKv.Core;

namespace RdmaKv.Client.Routing;

/// <summary>A node on its own (<c>local:NAME</c>, or a <c>ucx://</c> node outside any cluster): one route for every key, nowhere to redirect.</summary>
sealed class OneNodeRouter(INodeSession session, KvClientOptions options) : IRouter
{
    readonly NodeRoute _route = new(session, new LocationCache(options.LocationCacheEntries));

    public object Version => _route;

    public NodeRoute Route(ReadOnlySpan<byte> key) => _route;

    public int MovedRetries => 0;

    public void Redirected(NodeRoute from, int attempt)
    {
    }

    public bool Rerouted(NodeRoute failed) => false;

    public NodeRoute Home => _route;

    public string NodeName => _route.Session.View.NodeName;

    public long Epoch => 0;

    public IReadOnlyDictionary<string, long> Stats() => _route.Session.Stats();

    public IReadOnlyList<NodeStatistics> StatsByNode() => [new(NodeName, null, null, Stats(), null)];

    public int SlotCount => 0;

    public void Dispose() => _route.Dispose();
}
