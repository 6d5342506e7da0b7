using RdmaKv.Core;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Client.Routing;

/// <summary>
/// Routes each key to the node that owns its slot under the newest cluster map the client
/// has seen. A node that answers WrongSlot makes the client fetch the map again (from that
/// node first, then any other) and retry.
/// </summary>
sealed class ClusterRouter : IRouter
{
    readonly KvClientOptions _options;
    readonly Lock _gate = new();
    readonly Dictionary<string, NodeRoute> _routes = new(StringComparer.Ordinal);
    volatile ClusterMap _map;

    ClusterRouter(ClusterMap map, KvClientOptions options)
    {
        _map = map;
        _options = options;
    }

    public ClusterMap Map => _map;

    public object Version => _map;

    public long Epoch => _map.Epoch;

    public string NodeName => $"cluster of {_map.Nodes.Count} nodes (epoch {_map.Epoch})";

    /// <summary>The first node of the map.</summary>
    public NodeRoute Home => RouteTo(_map.Nodes[0]);

    /// <summary>
    /// Connects to the first seed that answers and asks it for the cluster map: a router over the
    /// cluster, or a one-node router when that node is on its own.
    /// </summary>
    public static IRouter Open(IReadOnlyList<(string Host, int Port)> seeds, KvClientOptions options)
    {
        var failures = new List<string>();
        foreach (var (host, port) in seeds)
        {
            RemoteSession session;
            try
            {
                session = RemoteSession.Open(host, port, options);
            }
            catch (KvConnectionException e)
            {
                failures.Add(e.Message);
                continue;
            }
            string? json;
            try
            {
                json = session.ClusterMapJson();
            }
            catch
            {
                session.Dispose();
                throw;
            }
            if (json is null)
            {
                if (seeds.Count > 1)
                {
                    session.Dispose();
                    throw new KvConnectionException($"ucx://{host}:{port} is a node on its own, not a cluster member; connect to it alone");
                }
                return new OneNodeRouter(session, options);
            }
            var router = new ClusterRouter(ParseMap(json, $"ucx://{host}:{port}"), options);
            var seedNode = router._map.Nodes.FirstOrDefault(n => n.Ucx == $"{host}:{port}");
            if (seedNode is not null)
            {
                session.BeforeNewRegions = router.NewRegions;
                router._routes[seedNode.Id] = router.NewRoute(seedNode, session);
            }
            else
            {
                session.Dispose();
            }
            return router;
        }
        throw new KvConnectionException($"no seed node answered: {string.Join("; ", failures)}");
    }

    static ClusterMap ParseMap(string json, string from)
    {
        try
        {
            return ClusterMap.Parse(json);
        }
        catch (InvalidDataException e)
        {
            throw new KvConnectionException($"{from} sent a cluster map this client cannot use: {e.Message}");
        }
    }

    public NodeRoute Route(ReadOnlySpan<byte> key) => RouteTo(_map.OwnerOf(key));

    public NodeRoute RouteTo(ClusterNode node)
    {
        lock (_gate)
        {
            if (_routes.TryGetValue(node.Id, out var route) && route.Node == node) return route;
            route?.Dispose();
            return _routes[node.Id] = NewRoute(node);
        }
    }

    NodeRoute NewRoute(ClusterNode node, RemoteSession? session = null) =>
        new(node, new LocationCache(_options.LocationCacheEntries), Connect, session);

    /// <summary>A session with <paramref name="node"/> that tells this router when it fetched new regions.</summary>
    RemoteSession Connect(ClusterNode node)
    {
        if (!ClusterMap.TrySplitAddress(node.Ucx, out string host, out int port))
            throw new KvConnectionException($"node {node.Id} has no usable ucx address ('{node.Ucx}')");
        RemoteSession session;
        try
        {
            session = RemoteSession.Open(host, port, _options);
        }
        catch (KvConnectionException e)
        {
            throw new KvConnectionException($"node {node.Id} (ucx://{node.Ucx}) is unreachable: {e.Message}", e);
        }
        session.BeforeNewRegions = NewRegions;
        return session;
    }

    /// <summary>Takes <paramref name="map"/> when it is newer than the one held.</summary>
    void Adopt(ClusterMap map)
    {
        lock (_gate)
        {
            if (map.Epoch > _map.Epoch) _map = map;
        }
    }

    /// <summary>
    /// A node's session fetched new regions: maybe the node gave a slot away. Asks that node
    /// only (the refreshing thread holds its session's lock; asking others could wait on theirs);
    /// a failure to ask is left to the read.
    /// </summary>
    void NewRegions(RemoteSession session)
    {
        try
        {
            string? json = session.ClusterMapJson();
            if (json is not null) Adopt(ParseMap(json, session.Address));
        }
        catch (Exception e) when (e is KvException or KvConnectionException)
        {
        }
    }

    /// <summary>
    /// Fetches the map again after a WrongSlot from <paramref name="from"/>: from that node
    /// first (it knows a newer epoch), then from the others. Keeps the newest epoch seen; true
    /// when it is newer than before.
    /// </summary>
    bool Refresh(NodeRoute from)
    {
        var current = _map;
        foreach (var node in current.Nodes.OrderBy(n => n.Id == from.Node!.Id ? 0 : 1))
        {
            try
            {
                string? json = RouteTo(node).Call(s => s.ClusterMapJson());
                if (json is null) continue;
                Adopt(ParseMap(json, $"node {node.Id}"));
                return _map.Epoch > current.Epoch;
            }
            catch (KvConnectionException)
            {
                // try the next node
            }
        }
        return false;
    }

    /// <summary>
    /// After a connection failure on <paramref name="failed"/>'s node: the client's map may be
    /// old, naming a node that gave the slot away and then went down (it can redirect no
    /// one). Asks the other nodes for the map; true when it is newer, so that the call is worth
    /// retrying under it (on the same node again only if the new map still names it).
    /// </summary>
    public bool Rerouted(NodeRoute failed)
    {
        var current = _map;
        foreach (var node in current.Nodes.Where(n => n.Id != failed.Node!.Id))
        {
            try
            {
                string? json = RouteTo(node).Call(s => s.ClusterMapJson());
                if (json is null) continue;
                Adopt(ParseMap(json, $"node {node.Id}"));
                return _map.Epoch > current.Epoch;
            }
            catch (Exception e) when (e is KvConnectionException or KvException)
            {
                // try the next node
            }
        }
        return false;
    }

    /// <summary>
    /// After a WrongSlot: a newer map means retry at once; none yet means the new owner has
    /// not taken the map (a move is switching over), so wait a little longer each attempt.
    /// </summary>
    public void Redirected(NodeRoute from, int attempt)
    {
        if (!Refresh(from)) Thread.Sleep(Math.Min(200, 5 << Math.Min(attempt, 6)));
    }

    /// <summary>How often a call follows WrongSlot to a newer map before the caller sees it.</summary>
    public int MovedRetries => 10;

    /// <summary>Every node's counters added up; a node that does not answer is left out.</summary>
    public IReadOnlyDictionary<string, long> Stats()
    {
        var sum = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in _map.Nodes)
        {
            try
            {
                foreach (var (name, n) in RouteTo(node).Call(s => s.Stats())) sum[name] = sum.GetValueOrDefault(name) + n;
            }
            catch (KvConnectionException)
            {
                sum["nodes_unreachable"] = sum.GetValueOrDefault("nodes_unreachable") + 1;
            }
        }
        return sum;
    }

    /// <summary>Every node of the map in map order: its counters, or why it did not answer.</summary>
    public IReadOnlyList<NodeStatistics> StatsByNode()
    {
        var map = _map;
        var result = new List<NodeStatistics>(map.Nodes.Count);
        foreach (var node in map.Nodes)
        {
            try
            {
                result.Add(new(node.Id, node.Ucx, node.Admin, RouteTo(node).Call(s => s.Stats()), null));
            }
            catch (KvConnectionException e)
            {
                result.Add(new(node.Id, node.Ucx, node.Admin, null, e.Message));
            }
        }
        return result;
    }

    public int SlotCount => _map.SlotCount;

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var r in _routes.Values) r.Dispose();
            _routes.Clear();
        }
    }
}
