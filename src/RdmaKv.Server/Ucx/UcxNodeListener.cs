using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// Serves remote clients over UCX: a handshake listener on HOST:PORT that checks the protocol
/// version and the node's client token before UCX makes anything for a peer
/// (<see cref="UcxHandshakeListener"/>), a Hello that must present the token again before any
/// region is described, READs of each partition's region (one-sided with
/// an rkey where the NIC checks it, else as messages this node checks: <see cref="RemoteReadPath"/>),
/// and puts, deletes, multi-puts and fallback GETs as active messages answered on the progress
/// thread by the same <see cref="RequestHandler"/> the local transport uses, but for those that
/// may wait on another node (UcxNodeListener.Deferred.cs).
/// </summary>
public sealed unsafe partial class UcxNodeListener : INodeListener, IFrameReceiver, IUcxHandshakeHost
{
    readonly StorageNode _node;
    readonly RequestHandler _handler;
    readonly string _token;
    readonly ILogger _log;
    readonly Dictionary<nint, UcxConnection> _connections = [];     // progress thread only
    readonly List<RegionRegistration>[] _registrations;            // progress thread only
    readonly ArrayBufferWriter<byte> _reply = new(1024);
    UcxWorker? _worker;
    UcxHandshakeListener? _handshakes;

    UcxNodeListener(StorageNode node, string token, ILogger log, RemoteReadPath reads)
    {
        _node = node;
        Reads = reads;
        _handler = new RequestHandler(node);
        _token = token;
        _log = log;
        _registrations = [.. Enumerable.Range(0, node.Partitions.Count).Select(_ => new List<RegionRegistration>())];
    }

    /// <summary>The address it listens on (the port is the real one when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    public int ConnectionCount { get; private set; }

    public string Transport => "ucx";

    public string Address => $"ucx://{EndPoint}";

    /// <summary>Ready while the handshake listener accepts and the worker's progress thread runs.</summary>
    public Admin.ReadinessCheck Readiness
    {
        get
        {
            bool accepting = _handshakes is { Accepting: true }, running = _worker is { Running: true };
            return new("ucx transport", accepting && running,
                accepting && running ? $"listening on {Address}" : $"not taking clients on {Address}: {(accepting ? "its UCX worker stopped" : "its handshake listener stopped")}");
        }
    }

    /// <summary>How clients READ this node's regions (never <see cref="RemoteReadPath.Auto"/>).</summary>
    public RemoteReadPath Reads { get; }

    public static UcxNodeListener Start(StorageNode node, IPEndPoint endPoint, string token, ILogger? log = null, UcxWorkerOptions? options = null)
    {
        if (endPoint.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException("--listen takes an IPv4 address", nameof(endPoint));
        if (!UcxEnvironment.IsAvailable(out string? problem)) throw new InvalidOperationException(problem);
        UcxEnvironment.ConfineNetworkDevicesTo(endPoint.Address);
        var reads = RemoteReadPaths.Resolve(node.Options.RemoteReads, UcxEnvironment.Get("UCX_TLS"));
        var listener = new UcxNodeListener(node, token, log ?? NullLogger.Instance, reads);
        string? error = null;
        try
        {
            listener._worker = UcxWorker.Start("node " + node.Options.Name, (options ?? new UcxWorkerOptions()) with
            {
                Rma = reads == RemoteReadPath.OneSided,
                OnCreated = w =>
                {
                    try
                    {
                        listener.Open(w);
                    }
                    catch (Exception e)
                    {
                        error = e.Message;
                    }
                },
            });
            if (error is not null) throw new IOException($"cannot listen on {endPoint}: {error}");
            listener._worker.Stopping += _ => listener.CloseAll();
            try
            {
                listener._handshakes = UcxHandshakeListener.Start(listener._worker, endPoint, listener);
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on {endPoint}: {e.Message}", e);
            }
            listener.EndPoint = listener._handshakes.EndPoint;
            node.Stopping += listener.Dispose;
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    void Open(UcxWorker worker)
    {
        UcxMessaging.Register(worker, UcxMessaging.RequestId, this, Wire.MaxFrameLength);
        if (Reads == RemoteReadPath.Messages) UcxMessaging.Register(worker, MessageReads.RequestId, new ReadServer(this), MessageReads.RequestLength(MessageReads.MaxParts));
    }

    /// <summary>What a client that presented no credential is told: where the token is and every way to pass it.</summary>
    const string NoCredential = "this node needs the client token from its data directory's client-token file (or --client-token-file): "
        + "rdmakv --token-file PATH, or RDMAKV_TOKEN_FILE=PATH or RDMAKV_TOKEN=TOKEN in the client's environment; KvClientOptions.Credential in code";

    UcxRefusal? IUcxHandshakeHost.Check(in UcxHandshakeRequest request)
    {
        if (request.ProtocolVersion != Wire.ProtocolVersion)
            return new UcxRefusal(UcxVerdict.WrongVersion, $"this node speaks protocol version {Wire.ProtocolVersion}, the client {request.ProtocolVersion}");
        if (request.Credential.IsEmpty)
            return new UcxRefusal(UcxVerdict.Unauthorized, NoCredential);
        // A peer node presents the cluster credential here and in Hello; either token lets a connection reach Hello.
        bool client = ClientTokenFile.Matches(_token, request.Credential.Span);
        bool peer = _node.ClusterToken is { } cluster && ClientTokenFile.Matches(cluster, request.Credential.Span);
        return client || peer ? null : new UcxRefusal(UcxVerdict.Unauthorized, "wrong credential");
    }

    void IUcxHandshakeHost.Refused(string peer, string reason)
    {
        _node.Counters.CountError("ucx", $"refused {peer}: {reason}");
        _log.LogInformation("ucx: refused {Peer}: {Reason}", peer, reason);
    }

    void IUcxHandshakeHost.Connected(UcxEndpoint endpoint, string peer)
    {
        _connections[endpoint.Id] = new UcxConnection(peer, endpoint);
        ConnectionCount = _connections.Count;
        Interlocked.Increment(ref _node.Counters.Connections);
        Interlocked.Increment(ref _node.Counters.ConnectionsOpen);
        _log.LogInformation("ucx: {Peer} connected", peer);
    }

    // Closing inside UCX's callback is not allowed: do it once the callback has returned.
    void IUcxHandshakeHost.EndpointFailed(nint endpoint, int status) => _worker!.Post(new CloseWork(this, endpoint, status));

    sealed class CloseWork(UcxNodeListener listener, nint endpoint, int status) : IUcxWork
    {
        public void Run(UcxWorker worker)
        {
            if (!listener._connections.TryGetValue(endpoint, out var connection)) return;
            listener._log.LogInformation("ucx: {Peer} disconnected ({Reason})", connection.Peer, UcxStatus.Describe(status));
            listener.Close(connection);
        }
    }

    void IFrameReceiver.Receive(UcxWorker worker, nint replyEndpoint, ulong id, ReadOnlySpan<byte> frame)
    {
        if (!_connections.TryGetValue(replyEndpoint, out var connection))
        {
            _log.LogWarning("ucx: a message came from an endpoint this node does not know; dropped");
            return;
        }
        _reply.ResetWrittenCount();
        Interlocked.Add(ref _node.Counters.BytesIn, frame.Length + Wire.LengthPrefix);
        // The decoder's spans point into the frame; copy so they stay valid while the handler runs.
        byte[] payload = frame.ToArray();
        if (!MessageDecoder.TryDecode(payload, out var request, out string error))
        {
            Interlocked.Increment(ref _node.Counters.BadFrames);
            _node.Counters.CountError("ucx", $"malformed request from {connection.Peer}: {error}");
            MessageEncoder.Reply(_reply, id, StoreStatus.BadRequest, $"malformed request: {error}");
        }
        else if (Deferred(connection, id, request))
        {
            return; // answered from a request thread
        }
        else
        {
            Dispatch(connection, request);
        }
        Reply(connection, id, _reply);
    }

    void Dispatch(UcxConnection connection, in Message request)
    {
        switch (request.Type)
        {
            case MessageType.Hello when request.Version != Wire.ProtocolVersion:
                MessageEncoder.Refusal(_reply, request.Id, StoreStatus.UnsupportedVersion,
                    $"this node speaks protocol version {Wire.ProtocolVersion}, the client {request.Version}");
                return;
            case MessageType.Hello when _node.ClusterToken is { } cluster && ClientTokenFile.Matches(cluster, request.Credential):
                // Only the cluster credential makes a peer; the node refuses to start when it equals the client token.
                connection.Greeted = true;
                connection.IsPeerNode = true;
                _log.LogInformation("ucx: {Peer} said Hello with the cluster credential: a peer node", connection.Peer);
                MessageEncoder.NodeView(_reply, MessageType.HelloReply, request.Id, View(connection));
                return;
            case MessageType.Hello when !ClientTokenFile.Matches(_token, request.Credential):
                _node.Counters.CountError("ucx", $"refused {connection.Peer}: {(request.Credential is null ? "no" : "wrong")} credential");
                MessageEncoder.Refusal(_reply, request.Id, StoreStatus.Unauthorized,
                    request.Credential is null ? NoCredential
                        : "wrong credential");
                return;
            // Not serving (its leases may have run out, and another node may lead its slots): no
            // client learns this node's map or regions, so none reads them one-sided.
            case MessageType.Hello when _node.IsFenced:
                Interlocked.Increment(ref _node.Counters.WrongSlot);
                MessageEncoder.Refusal(_reply, request.Id, StoreStatus.WrongSlot, $"node {_node.Options.NodeId} is not serving: {_node.FenceReason}");
                return;
            case MessageType.Regions when connection.Greeted && _node.IsFenced:
                Interlocked.Increment(ref _node.Counters.WrongSlot);
                MessageEncoder.Reply(_reply, request.Id, StoreStatus.WrongSlot, $"node {_node.Options.NodeId} is not serving: {_node.FenceReason}");
                return;
            case MessageType.Hello:
                connection.Greeted = true;
                connection.IsPeerNode = false;
                MessageEncoder.NodeView(_reply, MessageType.HelloReply, request.Id, View(connection));
                return;
            case MessageType.Regions when connection.Greeted:
                MessageEncoder.NodeView(_reply, MessageType.Regions, request.Id, View(connection));
                return;
            case MessageType.OpenMailbox:
                MessageEncoder.Reply(_reply, request.Id, StoreStatus.BadRequest, "mailboxes are for local clients");
                return;
            default:
                Handle(connection, request, _reply);
                return;
        }
    }

    /// <summary>Any request but Hello and Regions, on the progress thread or a request thread (UcxNodeListener.Deferred.cs).</summary>
    void Handle(UcxConnection connection, in Message request, ArrayBufferWriter<byte> reply)
    {
        if (!connection.IsPeerNode && RequestHandler.IsNodeToNode(request.Type))
            _log.LogWarning("ucx: refused {Type} from {Peer}: node-to-node messages need the cluster credential", request.Type, connection.Peer);
        _handler.Handle(in request, ref connection.Greeted, reply, connection.IsPeerNode);
    }

    void IFrameReceiver.Oversized(UcxWorker worker, nint replyEndpoint, ulong id, ulong length)
    {
        if (!_connections.TryGetValue(replyEndpoint, out var connection)) return;
        _node.Counters.CountError("ucx", $"{connection.Peer} sent a {length}-byte message");
        _reply.ResetWrittenCount();
        MessageEncoder.Reply(_reply, id, StoreStatus.BadRequest, $"a message of {length} bytes exceeds the {Wire.MaxFrameLength}-byte limit");
        Reply(connection, id, _reply);
    }

    /// <summary>Sends a reply with the request's id in the message header, so the client matches it without decoding (also a refusal of a frame it could not decode).</summary>
    void Reply(UcxConnection connection, ulong id, ArrayBufferWriter<byte> reply)
    {
        int status = connection.Endpoint.Send(UcxMessaging.ReplyId, id, reply.WrittenSpan[Wire.LengthPrefix..]);
        if (status != 0) _log.LogDebug("ucx: reply to {Peer} failed: {Reason}", connection.Peer, UcxStatus.Describe(status));
    }

    /// <summary>The node's view with each partition's region registered, and the connection's holds moved to it.</summary>
    NodeView View(UcxConnection connection)
    {
        var view = _node.View();
        var regions = new RegionDescriptor[_node.Partitions.Count];
        for (int p = 0; p < regions.Length; p++)
        {
            var registration = Current(p);
            if (connection.Held.TryGetValue(p, out var held) && held != registration) Drop(held);
            if (held != registration)
            {
                registration.Holders++;
                connection.Held[p] = registration;
            }
            regions[p] = Reads == RemoteReadPath.OneSided
                ? new RegionDescriptor(p, registration.Generation, registration.Length, Path: null, registration.Address, registration.RemoteKey)
                : new RegionDescriptor(p, registration.Generation, registration.Length, Path: null);
        }
        return view with { Regions = regions };
    }

    RegionRegistration Current(int partition)
    {
        var list = _registrations[partition];
        for (int attempt = 0; ; attempt++)
        {
            var nodePartition = _node.Partitions[partition];
            Region region;
            lock (nodePartition.Lock) region = nodePartition.Writer.Region;
            ulong generation = region.Header.Generation;
            foreach (var r in list)
            {
                if (r.Generation == generation) return r;
                r.Current = false;
            }
            SweepRetired(list);
            var fresh = RegionRegistration.Create(_worker!, partition, region, oneSided: Reads == RemoteReadPath.OneSided);
            if (fresh is not null)
            {
                list.Add(fresh);
                return fresh;
            }
            if (attempt == 10) throw new InvalidOperationException($"partition {partition} keeps replacing its region");
        }
    }

    /// <summary>How long a retired generation stays registered and mapped after its last holder let go: well past any client's READ timeout.</summary>
    static readonly TimeSpan RetiredGrace = TimeSpan.FromSeconds(60);

    void Drop(RegionRegistration registration)
    {
        if (--registration.Holders == 0) registration.ReleasedAt = Environment.TickCount64;
    }

    /// <summary>Deregisters retired generations nobody has held for <see cref="RetiredGrace"/>.</summary>
    void SweepRetired(List<RegionRegistration> list)
    {
        long now = Environment.TickCount64;
        foreach (var r in list.Where(r => !r.Current && r.Holders == 0 && (r.ReleasedAt is null || now - r.ReleasedAt >= (long)RetiredGrace.TotalMilliseconds)).ToList())
            Destroy(r);
    }

    void Destroy(RegionRegistration registration)
    {
        _registrations[registration.Partition].Remove(registration);
        registration.Destroy();
    }

    void Close(UcxConnection connection)
    {
        if (!_connections.Remove(connection.Endpoint.Id)) return;
        ConnectionCount = _connections.Count;
        Interlocked.Decrement(ref _node.Counters.ConnectionsOpen);
        foreach (var held in connection.Held.Values) Drop(held);
        connection.Held.Clear();
        connection.Endpoint.Dispose();
    }

    void CloseAll()
    {
        foreach (var c in _connections.Values.ToList()) Close(c);
        foreach (var list in _registrations)
        {
            foreach (var r in list) r.Destroy();
            list.Clear();
        }
    }

    public void Dispose()
    {
        _node.Stopping -= Dispose;
        _handshakes?.Dispose(); // no new endpoints while the worker stops
        StopThreads();
        _worker?.Dispose();
    }
}
