using RdmaKv.Core;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Client.Routing;

/// <summary>
/// The client's way to one node: its session and its own location cache. A cluster node's route
/// connects on first use and again after it was replaced, and its failures name the node; a node
/// on its own keeps the session it was opened with (the session reconnects itself).
/// </summary>
sealed class NodeRoute : IDisposable
{
    readonly Lock _gate = new();
    readonly Func<ClusterNode, INodeSession>? _connect;
    INodeSession? _session;

    /// <summary>The route to a node on its own.</summary>
    public NodeRoute(INodeSession session, LocationCache cache)
    {
        _session = session;
        Cache = cache;
    }

    /// <summary>The route to a cluster node, through <paramref name="session"/> or, when there is none, one <paramref name="connect"/> opens on first use.</summary>
    public NodeRoute(ClusterNode node, LocationCache cache, Func<ClusterNode, INodeSession> connect, INodeSession? session = null)
    {
        Node = node;
        Cache = cache;
        _connect = connect;
        _session = session;
    }

    /// <summary>The cluster node; null for a node on its own.</summary>
    public ClusterNode? Node { get; }

    public LocationCache Cache { get; }

    public INodeSession Session => Volatile.Read(ref _session) ?? Connected();

    INodeSession Connected()
    {
        lock (_gate) return _session ??= _connect!(Node!);
    }

    /// <summary>Runs <paramref name="call"/> on the node; a connection failure names the node.</summary>
    public T Call<T>(Func<INodeSession, T> call)
    {
        try
        {
            return call(Session);
        }
        catch (KvConnectionException e) when (!Names(e))
        {
            throw Failed(e);
        }
    }

    /// <summary>True when <paramref name="e"/> needs no word from this route: there is one node, or it names this one.</summary>
    public bool Names(KvConnectionException e) => Node is null || e.Message.StartsWith($"node {Node.Id} ", StringComparison.Ordinal);

    /// <summary>The failure, saying which node it was (for a failure that <see cref="Names"/> does not cover).</summary>
    public KvConnectionException Failed(KvConnectionException e) => new($"node {Node?.Id} (ucx://{Node?.Ucx}) failed: {e.Message}", e);

    /// <summary>A cluster node's route drops its session (the next use connects again); a lone node's session is closed for good.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _session?.Dispose();
            if (_connect is not null) _session = null;
        }
    }
}
