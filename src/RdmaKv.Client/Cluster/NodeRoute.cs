using RdmaKv.Core;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Client.Cluster;

/// <summary>
/// The client's way to one node of a cluster: its session (connected on first use, reconnected
/// after a failure) and its own location cache. Failures name the node.
/// </summary>
sealed class NodeRoute : IDisposable
{
    readonly Lock _gate = new();
    readonly KvClientOptions _options;
    readonly Action<RemoteSession> _beforeNewRegions;
    RemoteSession? _session;

    /// <param name="beforeNewRegions">Runs when the session has fetched new regions, before readers use them (the router fetches the map).</param>
    public NodeRoute(ClusterNode node, KvClientOptions options, LocationCache cache, Action<RemoteSession> beforeNewRegions, RemoteSession? session = null)
    {
        Node = node;
        Cache = cache;
        _options = options;
        _beforeNewRegions = beforeNewRegions;
        if (session is not null) _session = Watch(session);
    }

    public ClusterNode Node { get; }
    public LocationCache Cache { get; }

    public RemoteSession Session
    {
        get
        {
            lock (_gate) return _session ??= Watch(Connect());
        }
    }

    RemoteSession Watch(RemoteSession session)
    {
        session.BeforeNewRegions = _beforeNewRegions;
        return session;
    }

    RemoteSession Connect()
    {
        if (!ClusterMap.TrySplitAddress(Node.Ucx, out string host, out int port))
            throw new KvConnectionException($"node {Node.Id} has no usable ucx address ('{Node.Ucx}')");
        try
        {
            return RemoteSession.Open(host, port, _options);
        }
        catch (KvConnectionException e)
        {
            throw new KvConnectionException($"node {Node.Id} (ucx://{Node.Ucx}) is unreachable: {e.Message}", e);
        }
    }

    /// <summary>Runs <paramref name="call"/> on the node; a connection failure names the node.</summary>
    public T Call<T>(Func<RemoteSession, T> call)
    {
        try
        {
            return call(Session);
        }
        catch (KvConnectionException e)
        {
            throw Failed(e);
        }
    }

    /// <summary>The failure, saying which node it was (unless it already does).</summary>
    public KvConnectionException Failed(KvConnectionException e) =>
        e.Message.StartsWith($"node {Node.Id} ", StringComparison.Ordinal) ? e : new KvConnectionException($"node {Node.Id} (ucx://{Node.Ucx}) failed: {e.Message}", e);

    public void Dispose()
    {
        lock (_gate)
        {
            _session?.Dispose();
            _session = null;
        }
    }
}
