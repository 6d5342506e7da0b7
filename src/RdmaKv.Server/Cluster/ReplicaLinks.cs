using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server.Cluster;

/// <summary>
/// A node's sessions with the other nodes of its cluster for replication, lease requests and the
/// controller's messages: one <see cref="PeerSession"/> per node, opened on first use. A session
/// that failed is replaced, but not more often than <see cref="RetryAfter"/>: in between, calls
/// to that node fail at once instead of holding a partition lock through a connect attempt each.
/// Thread-safe. A link that breaks is logged once, and once more when it works again.
/// </summary>
public sealed class ReplicaLinks(Func<ClusterMap?> map, string token, TimeSpan timeout, ILogger? log = null) : IDisposable
{
    readonly ILogger _log = log ?? NullLogger.Instance;

    public static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(100);

    readonly ConcurrentDictionary<string, Link> _links = new(StringComparer.Ordinal);
    volatile bool _disposed;

    sealed class Link
    {
        public readonly Lock Gate = new();
        public PeerSession? Session;
        public long FailedAt;
        public string? Failure;
        public bool Reported;
    }

    /// <summary>Replicates a put (or a delete) to <paramref name="node"/>; throws <see cref="PeerConnectionException"/> or <see cref="PeerRefusedException"/>.</summary>
    public void Send(string node, long epoch, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool delete, long expiresAt = Expiry.Never)
    {
        var session = Session(node);
        try
        {
            session.Replicate(epoch, Sender, key, value, delete, expiresAt);
        }
        catch (PeerConnectionException e)
        {
            Broken(node, session, e.Message);
            throw;
        }
    }

    /// <summary>The sender's id in every message: this node's.</summary>
    public string Sender { get; init; } = "";

    /// <summary>Runs <paramref name="call"/> on the session with <paramref name="node"/>, replacing the session when the connection failed.</summary>
    public void Call(string node, Action<PeerSession> call)
    {
        var session = Session(node);
        try
        {
            call(session);
        }
        catch (PeerConnectionException e)
        {
            Broken(node, session, e.Message);
            throw;
        }
    }

    PeerSession Session(string node)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var link = _links.GetOrAdd(node, _ => new Link());
        lock (link.Gate)
        {
            if (link.Session is { Failed: false } session) return session;
            if (link.Failure is { } failure && Stopwatch.GetElapsedTime(link.FailedAt) < RetryAfter)
                throw new PeerConnectionException($"node {node} failed {Stopwatch.GetElapsedTime(link.FailedAt).TotalMilliseconds:F0} ms ago ({failure}); trying again shortly");
            link.Session?.Dispose();
            link.Session = null;
            var target = map()?.Node(node) ?? throw new PeerConnectionException($"node {node} is not in the cluster map");
            try
            {
                link.Session = PeerSession.Open(target, token, timeout);
                link.Failure = null;
                if (link.Reported) _log.LogInformation("Node {Node} answers again", node);
                link.Reported = false;
                return link.Session;
            }
            catch (PeerConnectionException e)
            {
                link.Failure = e.Message;
                link.FailedAt = Stopwatch.GetTimestamp();
                Report(node, link);
                throw;
            }
        }
    }

    void Broken(string node, PeerSession session, string why)
    {
        if (!_links.TryGetValue(node, out var link)) return;
        lock (link.Gate)
        {
            if (link.Session != session) return;
            link.Failure = why;
            link.FailedAt = Stopwatch.GetTimestamp();
            Report(node, link);
        }
    }

    void Report(string node, Link link)
    {
        if (link.Reported) return;
        link.Reported = true;
        _log.LogWarning("Node {Node} does not answer ({Reason}): writes of the slots it backs fail as Unavailable until it answers or the controller replaces it", node, link.Failure);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var link in _links.Values)
            lock (link.Gate) link.Session?.Dispose();
    }
}
