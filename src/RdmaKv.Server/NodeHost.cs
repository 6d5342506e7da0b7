using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Admin;
using RdmaKv.Server.Ucx;

namespace RdmaKv.Server;

/// <summary>What a host is told besides the node's options.</summary>
public sealed record NodeHostOptions
{
    /// <summary>Where UCX listens; null for no remote access.</summary>
    public IPEndPoint? Listen { get; init; }

    /// <summary>The operator named the UCX address: failing to listen there stops the start (else the node serves local clients and says why).</summary>
    public bool ListenRequired { get; init; }

    /// <summary>The operator named the admin URLs: failing to bind them stops the start.</summary>
    public bool AdminRequired { get; init; }
}

/// <summary>A part of a node could not start; <see cref="Stage"/> names it for the operator.</summary>
public sealed class NodeStartException(string stage, string message, Exception inner) : Exception(message, inner)
{
    public string Stage { get; } = stage;
}

/// <summary>
/// A node and everything that serves it, started in order and stopped in reverse: the admin
/// plane first (so /health answers "starting" while the node recovers), the node with its local
/// listener, then the remote listeners; the admin plane is given the node once it is up.
/// </summary>
public sealed class NodeHost : IAsyncDisposable, IDisposable
{
    readonly List<INodeListener> _listeners = [];

    readonly ILoggerFactory _logs;

    NodeHost(StorageNode node, AdminPlane? admin, ILoggerFactory logs)
    {
        Node = node;
        Admin = admin;
        _logs = logs;
    }

    public StorageNode Node { get; }
    public AdminPlane? Admin { get; }

    /// <summary>Every way clients reach this node, local first.</summary>
    public IReadOnlyList<INodeListener> Listeners
    {
        get
        {
            lock (_listeners) return [.. _listeners];
        }
    }

    /// <summary>The UCX listener, when remote access is on.</summary>
    public UcxNodeListener? Remote => Listeners.OfType<UcxNodeListener>().FirstOrDefault();

    /// <summary>
    /// Starts a host for a program that is not asynchronous (tests, benchmarks, tools): with no
    /// <paramref name="host"/> options, local clients only (and the admin plane if the node's
    /// options name its URLs).
    /// </summary>
    public static NodeHost Start(StorageNodeOptions options, NodeHostOptions? host = null, ILoggerFactory? logs = null)
    {
#pragma warning disable VSTHRD002 // start-up is synchronous for these callers by design
        return StartAsync(options, host ?? new NodeHostOptions(), logs ?? NullLoggerFactory.Instance, CancellationToken.None).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    /// <summary>Adds a listener made for this host's node (a transport started after the host, as tests do); it stops with the host.</summary>
    public T Add<T>(Func<StorageNode, T> start) where T : INodeListener
    {
        var listener = start(Node);
        Track(listener);
        return listener;
    }

    /// <summary>Keeps <paramref name="listener"/> to stop with the host, and reports its state in the node's readiness.</summary>
    void Track(INodeListener listener)
    {
        lock (_listeners) _listeners.Add(listener);
        Node.ReportsReadiness(listener);
    }

    /// <summary>Starts UCX remote access at <paramref name="at"/> with the node's client token, and adds it.</summary>
    public UcxNodeListener AddRemote(IPEndPoint at) =>
        Add(node => RemoteAccess.Start(node, at, _logs.CreateLogger("RdmaKv.Server.Ucx")) ?? throw new InvalidOperationException("UCX is not available here; see the log"));

    public static async Task<NodeHost> StartAsync(StorageNodeOptions options, NodeHostOptions host, ILoggerFactory logs, CancellationToken cancel)
    {
        AdminPlane? admin;
        try
        {
            // Before the admin plane writes its token there: the data directory is private first.
            PrivateDataDirectory.Prepare(options.DataDirectory, logs.CreateLogger<StorageNode>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeStartException("node", e.Message, e);
        }
        try
        {
            admin = await AdminPlaneHost.StartAsync(options, host.AdminRequired, logs, cancel);
        }
        catch (Exception e) when (HostAddresses.NotHere(e))
        {
            throw new NodeStartException("admin plane", HostAddresses.Explain($"cannot listen on {options.AdminUrls}", AdminHost(options.AdminUrls), options), e);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
        {
            throw new NodeStartException("admin plane", e.Message, e);
        }
        StorageNode node;
        try
        {
            node = StorageNode.Start(options, logs.CreateLogger<StorageNode>());
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            if (admin is not null) await admin.DisposeAsync();
            throw new NodeStartException("node", e.Message, e);
        }
        var started = new NodeHost(node, admin, logs);
        var log = logs.CreateLogger<StorageNode>();
        if (options.Etcd is not null)
        {
            try
            {
                // Before any listener: the node takes the map from etcd and starts fenced.
                node.Coordinate(Cluster.EtcdCoordination.Start(options.Etcd, options.NodeId!, options.LeaseTtl, host.Listen?.ToString(),
                    options.AdminUrls, logs.CreateLogger("RdmaKv.Server.Etcd")));
            }
            catch (Exception e) when (e is Coordination.CoordinationException or InvalidDataException or InvalidOperationException or ArgumentException)
            {
                await started.DisposeAsync();
                throw new NodeStartException("etcd", e.Message, e);
            }
        }
        try
        {
            started.Track(LocalListener.Start(node, log));
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            await started.DisposeAsync();
            throw new NodeStartException("node", $"the local socket {node.NodeDirectory.SocketPath} cannot listen: {e.Message}", e);
        }
        try
        {
            var remote = RemoteAccess.Start(node, host.Listen, logs.CreateLogger("RdmaKv.Server.Ucx"));
            if (remote is not null) started.Track(remote);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or InvalidDataException)
        {
            if (host.ListenRequired)
            {
                await started.DisposeAsync();
                throw new NodeStartException("remote access", HostAddresses.NotHere(e) && host.Listen is { } at
                    ? HostAddresses.Explain($"cannot listen on {at}", at.Address.ToString(), options) : e.Message, e);
            }
            // Only the default address was taken (another node on this host): serve local clients.
            logs.CreateLogger<StorageNode>().LogWarning("remote access is off: {Reason}; pass --listen HOST:PORT to choose another address", e.Message);
        }
        admin?.Attach(node);
        log.LogInformation("RdmaKv node '{Name}' is up: local clients connect with local:{Name}{Remote}",
            options.Name, options.Name, started.Remote is { } ucx ? $", remote clients with ucx://{ucx.EndPoint}" : "");
        return started;
    }

    /// <summary>The host of the first of the admin URLs (for a message), or the URLs as they are.</summary>
    static string AdminHost(string urls) =>
        Uri.TryCreate(urls.Split(';')[0].Trim(), UriKind.Absolute, out var url) ? url.Host : urls;

    /// <summary>The admin plane lets go of the node, the remote listeners stop, then the node (draining its local clients, unmapping, removing its shared memory), then the admin plane.</summary>
    public void Dispose()
    {
#pragma warning disable VSTHRD002 // see Start
        DisposeAsync().AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Detach();
        var listeners = Listeners;
        for (int i = listeners.Count - 1; i >= 0; i--) listeners[i].Dispose();
        Node.Dispose();
        if (Admin is not null) await Admin.DisposeAsync();
    }
}
