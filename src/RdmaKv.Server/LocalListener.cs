using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport;

namespace RdmaKv.Server;

/// <summary>
/// Serves local clients' requests (puts, deletes, fallback gets, region refreshes) over a Unix
/// domain socket in the node's directory, one thread per connection. GETs never come here: local
/// clients read the mapped regions themselves.
/// </summary>
public sealed class LocalListener : INodeListener
{
    readonly Socket _listener;
    readonly StorageNode _node;
    readonly ILogger _log;
    readonly Thread _acceptThread;
    readonly List<(Thread Thread, FrameConnection Connection)> _connections = [];
    volatile bool _stopping;
    int _mailboxes;

    public string Transport => "local";

    public string Address => $"local:{_node.Options.Name}";

    /// <summary>Listens on the node's socket (in its shared-memory directory); stops when its host or the node stops.</summary>
    public static LocalListener Start(StorageNode node, ILogger log) => new(node, node.NodeDirectory.SocketPath, log);

    LocalListener(StorageNode node, string socketPath, ILogger log)
    {
        _node = node;
        _log = log;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(128);
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "rdmakv-accept" };
        _acceptThread.Start();
        node.Stopping += Dispose; // a node disposed without its host still stops serving before it unmaps
    }

    void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            var connection = new FrameConnection(socket, Wire.MaxFrameLength, _node.Options.SpinBeforeBlock);
            var thread = new Thread(() => Serve(connection)) { IsBackground = true, Name = "rdmakv-local" };
            lock (_connections)
            {
                if (_stopping)
                {
                    connection.Dispose();
                    return;
                }
                _connections.Add((thread, connection));
            }
            Interlocked.Increment(ref _node.Counters.Connections);
            thread.Start();
        }
    }

    void Serve(FrameConnection connection)
    {
        Interlocked.Increment(ref _node.Counters.ConnectionsOpen);
        var reply = new ArrayBufferWriter<byte>(4096);
        var handler = new RequestHandler(_node);
        bool greeted = false;
        IFrameTransport transport = connection;
        SharedMailbox? mailbox = null;
        try
        {
            while (transport.TryReceive(out var payload))
            {
                reply.ResetWrittenCount();
                Interlocked.Add(ref _node.Counters.BytesIn, payload.Length + Wire.LengthPrefix);
                if (MessageDecoder.TryDecode(payload, out var request, out string error))
                {
                    if (_stopping) MessageEncoder.Reply(reply, request.Id, StoreStatus.ShuttingDown, "the node is shutting down");
                    else if (request.Type == MessageType.OpenMailbox && greeted && mailbox is null)
                    {
                        // From here on requests and replies pass through shared memory; the
                        // socket only carries doorbells and tells when the client has gone.
                        string path = Path.Combine(_node.NodeDirectory.Path, $"c{Interlocked.Increment(ref _mailboxes)}.mailbox");
                        mailbox = SharedMailbox.Create(path, Wire.MaxFrameLength, connection.Socket, _node.Options.SpinBeforeBlock);
                        MessageEncoder.Reply(reply, request.Id, StoreStatus.Ok, path);
                        transport.Send(reply.WrittenSpan);
                        transport = mailbox;
                        continue;
                    }
                    else handler.Handle(request, ref greeted, reply);
                }
                else
                {
                    Interlocked.Increment(ref _node.Counters.BadFrames);
                    MessageEncoder.Reply(reply, 0, StoreStatus.BadRequest, error);
                }
                transport.Send(reply.WrittenSpan);
            }
        }
        catch (InvalidDataException e)
        {
            // An oversized frame: the stream cannot be resynchronized. Say why, then hang up.
            Interlocked.Increment(ref _node.Counters.BadFrames);
            reply.ResetWrittenCount();
            MessageEncoder.Reply(reply, 0, StoreStatus.BadRequest, e.Message);
            TrySend(transport, reply);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client went away or the node is stopping.
        }
        catch (Exception e)
        {
            _log.LogError(e, "a local connection failed");
        }
        finally
        {
            Interlocked.Decrement(ref _node.Counters.ConnectionsOpen);
            mailbox?.Dispose();
            connection.Dispose();
            lock (_connections) _connections.RemoveAll(c => c.Connection == connection);
        }
    }

    static void TrySend(IFrameTransport connection, ArrayBufferWriter<byte> reply)
    {
        try
        {
            connection.Send(reply.WrittenSpan);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Stops accepting, lets every connection finish the request it is on, and waits for them.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _node.Stopping -= Dispose;
        _stopping = true;
        _listener.Dispose();
        _acceptThread.Join(TimeSpan.FromSeconds(5));
        List<(Thread Thread, FrameConnection Connection)> open;
        lock (_connections) open = [.. _connections];
        foreach (var (_, c) in open)
        {
            try
            {
                c.Socket.Shutdown(SocketShutdown.Receive);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
        foreach (var (t, _) in open) t.Join(TimeSpan.FromSeconds(5));
    }
}
