using System.Net;
using System.Net.Sockets;

namespace RdmaKv.Transport.Ucx;

/// <summary>What a node decides and learns while <see cref="UcxHandshakeListener"/> accepts peers.</summary>
public interface IUcxHandshakeHost
{
    /// <summary>Null accepts the peer; a refusal is sent to it as it is. Any thread; compare secrets in constant time.</summary>
    UcxRefusal? Check(in UcxHandshakeRequest request);

    /// <summary>An accepted peer's endpoint exists; on the progress thread.</summary>
    void Connected(UcxEndpoint endpoint, string peer);

    /// <summary>An endpoint failed (see <see cref="UcxEndpoint"/>); on the progress thread, inside UCX.</summary>
    void EndpointFailed(nint endpoint, int status);

    /// <summary>A handshake was refused or broke off (for the log and counters); any thread.</summary>
    void Refused(string peer, string reason);
}

public sealed record UcxHandshakeOptions
{
    /// <summary>How long a peer has for the whole handshake, from its TCP connect to the node's ready.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Handshakes in progress at once; a peer over the limit is refused at once (slow or half-open peers cannot hold more).</summary>
    public int MaxPending { get; init; } = 64;
}

/// <summary>
/// The node's side of <see cref="UcxHandshake"/>: a TCP listener on the node's address that
/// checks each peer with <see cref="IUcxHandshakeHost.Check"/> before anything of UCX is made for
/// it, then creates the node's endpoint to the peer's worker address on the worker's progress
/// thread. UCX's own connection manager (ucp_listener) is never opened.
/// </summary>
public sealed class UcxHandshakeListener : IDisposable
{
    readonly UcxWorker _worker;
    readonly IUcxHandshakeHost _host;
    readonly UcxHandshakeOptions _options;
    readonly Socket _socket;
    readonly CancellationTokenSource _stop = new();
    readonly SemaphoreSlim _pending;
    readonly Task _accepting;

    UcxHandshakeListener(UcxWorker worker, IUcxHandshakeHost host, UcxHandshakeOptions options, Socket socket)
    {
        _worker = worker;
        _host = host;
        _options = options;
        _socket = socket;
        _pending = new SemaphoreSlim(options.MaxPending, options.MaxPending);
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address it listens on (the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>True while its accept loop runs (until <see cref="Dispose"/>).</summary>
    public bool Accepting => !_accepting.IsCompleted && !_stop.IsCancellationRequested;

    /// <summary>Listens on <paramref name="endPoint"/>; throws <see cref="SocketException"/> when it cannot.</summary>
    public static UcxHandshakeListener Start(UcxWorker worker, IPEndPoint endPoint, IUcxHandshakeHost host, UcxHandshakeOptions? options = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restarted node takes its port back although the old connections linger in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(128);
            return new UcxHandshakeListener(worker, host, options ?? new UcxHandshakeOptions(), socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue; // the peer went away between its SYN and the accept
            }
            catch (SocketException)
            {
                // Out of descriptors or buffers: back off instead of spinning on the same error.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            if (!_pending.Wait(0))
            {
                _ = RefuseBusyAsync(peer);
                continue;
            }
            _ = ServeAsync(peer);
        }
    }

    async Task RefuseBusyAsync(Socket peer)
    {
        using (peer)
        {
            string name = Describe(peer);
            _host.Refused(name, $"{_options.MaxPending} handshakes are in progress");
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await peer.SendAsync(UcxHandshake.Refusal(new UcxRefusal(UcxVerdict.Busy, "the node is busy with other handshakes; try again")), deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    async Task ServeAsync(Socket peer)
    {
        string name = Describe(peer);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(_options.Deadline);
        try
        {
            peer.NoDelay = true;
            var refusal = await HandshakeAsync(peer, name, deadline.Token).ConfigureAwait(false);
            if (refusal is not null)
            {
                _host.Refused(name, refusal.Reason);
                await peer.SendAsync(UcxHandshake.Refusal(refusal), deadline.Token).ConfigureAwait(false);
                peer.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is SocketException or EndOfStreamException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            _host.Refused(name, e is OperationCanceledException ? $"no handshake within {_options.Deadline.TotalSeconds:0.#} s" : e.Message);
        }
        catch (Exception e)
        {
            _host.Refused(name, $"the handshake failed: {e}");
        }
        finally
        {
            peer.Dispose();
            _pending.Release();
        }
    }

    /// <summary>One handshake; a refusal to send, or null once the peer's endpoint exists and it was told so.</summary>
    async Task<UcxRefusal?> HandshakeAsync(Socket peer, string name, CancellationToken cancel)
    {
        var header = new byte[UcxHandshake.HelloHeader];
        await UcxHandshake.ReadExactlyAsync(peer, header, cancel).ConfigureAwait(false);
        var refusal = UcxHandshake.ReadHelloHeader(header, out int protocolVersion, out int credentialLength);
        if (refusal is not null) return refusal;
        var credential = new byte[credentialLength];
        await UcxHandshake.ReadExactlyAsync(peer, credential, cancel).ConfigureAwait(false);
        refusal = _host.Check(new UcxHandshakeRequest(name, protocolVersion, credential));
        if (refusal is not null) return refusal;

        byte[] local = await _worker.AddressAsync().WaitAsync(cancel).ConfigureAwait(false);
        await peer.SendAsync(UcxHandshake.Answer(UcxVerdict.Accepted, local), cancel).ConfigureAwait(false);
        byte[] remote = await UcxHandshake.ReadBodyAsync(peer, await UcxHandshake.ReadLengthAsync(peer, cancel).ConfigureAwait(false), cancel).ConfigureAwait(false);

        var connect = new ConnectWork(_host, remote, name);
        _worker.Post(connect);
        string? error = await connect.Done.Task.WaitAsync(cancel).ConfigureAwait(false);
        if (error is not null) return new UcxRefusal(UcxVerdict.Failed, $"the node cannot reach the client's worker address: {error}");
        await peer.SendAsync(UcxHandshake.Answer(UcxVerdict.Accepted, default), cancel).ConfigureAwait(false);
        return null;
    }

    static string Describe(Socket peer)
    {
        try
        {
            return peer.RemoteEndPoint?.ToString() ?? "unknown peer";
        }
        catch (SocketException)
        {
            return "unknown peer";
        }
    }

    sealed class ConnectWork(IUcxHandshakeHost host, byte[] address, string peer) : IUcxWork
    {
        public readonly TaskCompletionSource<string?> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(UcxWorker worker)
        {
            var endpoint = UcxEndpoint.Connect(worker, address, host.EndpointFailed, out string? error);
            if (endpoint is not null) host.Connected(endpoint, peer);
            Done.SetResult(error);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        // The loop ends at its next accept, which the closed socket fails at once.
#pragma warning disable VSTHRD002 // bounded: the loop only awaits the accept that the closed socket ends
        _accepting.Wait(TimeSpan.FromSeconds(5));
#pragma warning restore VSTHRD002
    }
}
