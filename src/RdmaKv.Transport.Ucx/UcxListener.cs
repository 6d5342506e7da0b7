using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A UCX listener on an IPv4 address (ucp_listener over UCX's connection manager), owned by one
/// worker: each connection request is handed to the callback on the progress thread, which
/// accepts it (<see cref="UcxConnectionRequest.Accept"/>) or lets it go. Open and dispose it on the
/// worker's progress thread.
/// </summary>
public sealed unsafe class UcxListener : IDisposable
{
    readonly UcxWorker _worker;
    readonly Action<UcxConnectionRequest> _onRequest;
    GCHandle _self;
    UcpListenerHandle? _handle;

    UcxListener(UcxWorker worker, Action<UcxConnectionRequest> onRequest)
    {
        _worker = worker;
        _onRequest = onRequest;
    }

    /// <summary>The address it listens on (the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    public static UcxListener Open(UcxWorker worker, IPEndPoint endPoint, Action<UcxConnectionRequest> onRequest)
    {
        if (endPoint.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException("UCX listens on IPv4 addresses only", nameof(endPoint));
        var listener = new UcxListener(worker, onRequest);
        listener._self = GCHandle.Alloc(listener);
        try
        {
            var sa = SockAddr.From(endPoint);
            var p = new UcpListenerParams
            {
                FieldMask = Ucp.ListenerParamSockAddr | Ucp.ListenerParamConnHandler,
                SockAddr = new UcsSockAddr { Addr = (nint)(&sa), AddrLength = (uint)sizeof(SockAddrIn) },
                ConnCallback = (nint)(delegate* unmanaged<nint, nint, void>)&OnConnectionRequest,
                ConnArg = GCHandle.ToIntPtr(listener._self),
            };
            nint raw;
            UcxException.Check(Ucp.ListenerCreate(worker.RawWorker, &p, &raw), "ucp_listener_create");
            listener._handle = new UcpListenerHandle(raw, worker.Worker);
            var attr = new UcpListenerAttr { FieldMask = Ucp.ListenerAttrSockAddr };
            UcxException.Check(Ucp.ListenerQuery(raw, &attr), "ucp_listener_query");
            listener.EndPoint = new IPEndPoint(endPoint.Address, SockAddr.PortOf((nint)attr.SockAddr));
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    [UnmanagedCallersOnly]
    static void OnConnectionRequest(nint request, nint arg)
    {
        try
        {
            var listener = (UcxListener)GCHandle.FromIntPtr(arg).Target!;
            listener._onRequest(new UcxConnectionRequest(listener._worker, request));
        }
        catch (Exception e)
        {
            System.Diagnostics.Trace.TraceError($"ucx: accepting a connection failed: {e}");
        }
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (_self.IsAllocated) _self.Free();
    }
}

/// <summary>A connection request a listener received; valid only during the listener's callback.</summary>
public readonly unsafe struct UcxConnectionRequest
{
    readonly UcxWorker _worker;
    readonly nint _request;

    internal UcxConnectionRequest(UcxWorker worker, nint request)
    {
        _worker = worker;
        _request = request;
        var attr = new UcpConnRequestAttr { FieldMask = Ucp.ConnRequestAttrClientAddress };
        Peer = Ucp.ConnRequestQuery(request, &attr) == 0 && SockAddr.Describe((nint)attr.ClientAddress) is { } peer ? peer : "unknown peer";
    }

    /// <summary>The client's address, "IP:PORT".</summary>
    public string Peer { get; }

    /// <summary>
    /// Creates the server's endpoint for this request, with peer error handling: when the peer
    /// fails or goes away, <paramref name="onError"/> gets the endpoint's <see cref="UcxEndpoint.Id"/>
    /// and the UCX status (on the progress thread, inside UCX: close the endpoint afterwards, not
    /// there). Returns null and the reason when UCX cannot create it.
    /// </summary>
    public UcxEndpoint? Accept(Action<nint, int> onError, out string? error) =>
        UcxEndpoint.Accept(_worker, _request, onError, out error);
}
