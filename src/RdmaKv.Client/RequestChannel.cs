using System.Buffers;
using System.Net.Sockets;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport;

namespace RdmaKv.Client;

/// <summary>
/// The request/reply path to a node (puts, deletes, fallback gets, refreshes): one request at a
/// time on one connection, shared by the client's threads under a gate.
/// </summary>
/// <remarks>
/// A channel that failed once (the node went away, a reply took longer than the timeout) is
/// broken for good: every later call fails at once with <see cref="KvConnectionException"/> and
/// the session opens a new channel. Dispose may run while other threads call: it marks the channel
/// broken, shuts the socket down (which wakes a caller blocked on it), and unmaps the mailbox only
/// once it holds the gate, so no caller can touch unmapped memory.
/// </remarks>
sealed class RequestChannel : IDisposable
{
    readonly FrameConnection _socket;
    IFrameTransport _connection;
    readonly ArrayBufferWriter<byte> _out = new(4096);
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly string _node;
    readonly TimeSpan _timeout;
    ulong _nextId;
    volatile bool _broken;
    int _disposed;

    RequestChannel(FrameConnection connection, string node, TimeSpan timeout)
    {
        _socket = connection;
        _connection = connection;
        _node = node;
        _timeout = timeout;
    }

    /// <summary>Connects to the node's Unix socket at <paramref name="socketPath"/>.</summary>
    /// <param name="socketPath">the socket in the node's directory.</param>
    /// <param name="node">the node's name, for messages.</param>
    /// <param name="spin">how long a wait for a reply spins before it blocks.</param>
    /// <param name="timeout">how long one reply may take; infinite waits for ever.</param>
    public static RequestChannel Open(string socketPath, string node, TimeSpan spin, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            // Blocking receives (the reply, the mailbox's doorbell) give up after this long.
            socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
        }
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new KvConnectionException($"no node named '{node}' is running here (nothing answers at {socketPath}): {e.Message}", e);
        }
        return new RequestChannel(new FrameConnection(socket, Wire.MaxFrameLength, spin), node, timeout);
    }

    /// <summary>
    /// Moves requests and replies from socket writes to a shared-memory mailbox the node creates:
    /// no system call per request while both sides are busy.
    /// </summary>
    /// <param name="spin">how long a wait on the mailbox spins before it blocks.</param>
    /// <param name="directory">the node's checked directory, the only place a mailbox may be.</param>
    public void UseMailbox(TimeSpan spin, string directory)
    {
        string path = Call(0, static (w, id, _) => MessageEncoder.Empty(w, MessageType.OpenMailbox, id), static m =>
            m.Status == StoreStatus.Ok && m.Text is { } p ? p : throw new KvConnectionException($"the node offered no mailbox: {m.Text}"));
        if (Path.GetDirectoryName(path) != directory) throw new KvConnectionException($"the node offered a mailbox outside its directory {directory}: {path}");
        _connection = SharedMailbox.Open(path, Wire.MaxFrameLength, _socket.Socket, spin);
    }

    public delegate void Encoder<TState>(ArrayBufferWriter<byte> output, ulong id, TState state) where TState : allows ref struct;

    /// <summary>Sends one request and waits for its reply. <paramref name="use"/> reads the reply before the buffer is reused.</summary>
    public TResult Call<TState, TResult>(TState state, Encoder<TState> encode, Func<Message, TResult> use)
        where TState : allows ref struct
    {
        _gate.Wait();
        try
        {
            if (_broken) throw Closed(null);
            ulong id = ++_nextId;
            _out.ResetWrittenCount();
            encode(_out, id, state);
            try
            {
                _connection.Send(_out.WrittenSpan);
                Message reply;
                do
                {
                    if (!_connection.TryReceive(out var payload)) throw Closed(null);
                    reply = Decode(payload, id);
                }
                while (IsAbandoned(reply, id));
                return use(reply);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidDataException)
            {
                throw Closed(e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<TResult> CallAsync<TResult>(Action<ArrayBufferWriter<byte>, ulong> encode, Func<Message, TResult> use, CancellationToken cancel)
    {
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        using var timer = _timeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(_timeout);
        using var linked = timer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancel, timer.Token);
        try
        {
            if (_broken) throw Closed(null);
            ulong id = ++_nextId;
            _out.ResetWrittenCount();
            encode(_out, id);
            try
            {
                // Not cancellable: half a frame would leave the stream unreadable for the node.
                await _connection.SendAsync(_out.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                Message reply;
                do reply = Decode(await _connection.ReceiveAsync(linked?.Token ?? cancel).ConfigureAwait(false) ?? throw Closed(null), id);
                while (IsAbandoned(reply, id));
                return use(reply);
            }
            catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancel.IsCancellationRequested)
            {
                throw Closed(new SocketException((int)SocketError.TimedOut));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidDataException)
            {
                throw Closed(e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    Message Decode(ReadOnlyMemory<byte> payload, ulong id)
    {
        if (!MessageDecoder.TryDecode(payload, out var reply, out string error))
            throw new KvConnectionException($"node '{_node}' sent a reply this client cannot read: {error}");
        if (reply.Id > id)
            throw new KvConnectionException($"node '{_node}' answered request {reply.Id}, expected {id}");
        return reply;
    }

    /// <summary>
    /// The reply to an earlier request whose caller stopped waiting (a cancelled async call). The
    /// node answers one request at a time, in order, so such replies come before ours: skip them.
    /// </summary>
    static bool IsAbandoned(in Message reply, ulong id) => reply.Id != 0 && reply.Id < id;

    /// <summary>Breaks the channel for good and says why.</summary>
    KvConnectionException Closed(Exception? inner)
    {
        _broken = true;
        if (inner is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
            return new($"node '{_node}' did not answer within {_timeout.TotalSeconds:0.###} s (KvClientOptions.Timeout)", inner);
        return new($"the connection to node '{_node}' was lost{(inner is null ? "" : ": " + inner.Message)}", inner);
    }

    /// <summary>Safe while other threads call: see the remarks on the class.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _broken = true;
        try
        {
            _socket.Socket.Shutdown(SocketShutdown.Both); // wakes a caller blocked on a receive
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        // A caller inside the gate leaves soon (its socket is shut); until then the mailbox stays
        // mapped. If one cannot leave, the mapping is left to the finalizer rather than pulled away.
        if (!_gate.Wait(_timeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromMinutes(1) : _timeout + TimeSpan.FromSeconds(1))) return;
        try
        {
            _connection.Dispose();
            _socket.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }
}
