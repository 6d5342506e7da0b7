using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// Requests that may wait on another node (a replicated client write waits for its backups) or
/// run long (a copy of slots to a new backup, a move's import) are handled on the listener's
/// request threads, not on the progress thread (also a write forwarded to a move's target): a progress thread that waits on another node
/// cannot answer that node's replica writes meanwhile, and two nodes that back each other then
/// wait on each other until the replication timeout (<c>CrossReplicationTests</c>: every write of
/// three such nodes stalled). Each connection's requests still apply in the order they came: once
/// one of them is deferred, the ones after it (but Hello and Regions) follow it until its queue is
/// empty. The request thread sends the reply itself when no thread is in the worker.
/// </summary>
public sealed partial class UcxNodeListener
{
    /// <summary>How many requests may wait at once (the rest queue); each holds at most one partition's order lock.</summary>
    const int RequestThreads = 8;

    readonly BlockingCollection<UcxConnection> _ready = new();
    readonly Lock _threadsGate = new();
    List<Thread>? _threads;

    /// <summary>Whether <paramref name="type"/> may wait on another node, or run long, on this node.</summary>
    static bool MayWait(MessageType type, bool writesMayWait) =>
        type is MessageType.AddBackup or MessageType.MoveIn or MessageType.Import
        || (writesMayWait && type is MessageType.Put or MessageType.Delete or MessageType.MultiPut);

    /// <summary>On the progress thread: queues the request on its connection instead of answering it now, when it or one before it may wait.</summary>
    bool Deferred(UcxConnection connection, ulong id, in Message request)
    {
        if (request.Type is MessageType.Hello or MessageType.Regions or MessageType.OpenMailbox) return false;
        lock (connection.Deferred)
        {
            if (connection.Deferred.Count == 0 && !MayWait(request.Type, _node.WritesMayWait)) return false;
            connection.Deferred.Enqueue((id, request));
            if (connection.Deferred.Count > 1) return true; // a request thread has it already
        }
        StartThreads();
        try
        {
            _ready.Add(connection);
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile: nothing answers any more.
        }
        return true;
    }

    void StartThreads()
    {
        lock (_threadsGate)
        {
            if (_threads is not null) return;
            _threads = [.. Enumerable.Range(0, RequestThreads).Select(i => new Thread(Serve) { IsBackground = true, Name = $"rdmakv-ucx-requests-{i}" })];
            _threads.ForEach(t => t.Start());
        }
    }

    /// <summary>A request thread: takes a connection whose queue has work, answers its oldest request, and hands the connection on while more remain.</summary>
    void Serve()
    {
        var reply = new ArrayBufferWriter<byte>(1024);
        foreach (var connection in _ready.GetConsumingEnumerable())
        {
            (ulong id, Message request) next;
            lock (connection.Deferred) next = connection.Deferred.Peek();
            reply.ResetWrittenCount();
            try
            {
                Handle(connection, next.request, reply);
                Reply(new ReplyWork(this, connection, next.id, reply.WrittenSpan[Wire.LengthPrefix..].ToArray()));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // An escaping exception would end the process; the progress thread's handling logs it so too.
                _log.LogError(e, "ucx: {Type} from {Peer} failed", next.request.Type, connection.Peer);
            }
            bool more;
            lock (connection.Deferred)
            {
                connection.Deferred.Dequeue();
                more = connection.Deferred.Count > 0;
            }
            if (!more) continue;
            try
            {
                _ready.Add(connection);
            }
            catch (InvalidOperationException)
            {
                // Disposed meanwhile: nothing answers any more.
            }
        }
    }

    /// <summary>Sends the reply from this thread when the worker is free, else from the progress thread.</summary>
    void Reply(IUcxWork work)
    {
        try
        {
            _worker?.RunOrPost(work);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The worker stopped: the connection is gone with it.
        }
    }

    sealed class ReplyWork(UcxNodeListener listener, UcxConnection connection, ulong id, byte[] reply) : IUcxWork
    {
        public void Run(UcxWorker worker)
        {
            if (!listener._connections.TryGetValue(connection.Endpoint.Id, out var open) || open != connection) return; // closed meanwhile
            int status = connection.Endpoint.Send(UcxMessaging.ReplyId, id, reply);
            if (status != 0) listener._log.LogDebug("ucx: reply to {Peer} failed: {Reason}", connection.Peer, UcxStatus.Describe(status));
        }
    }

    /// <summary>Stops the request threads once each has finished the request it is on (a node must not close under them).</summary>
    void StopThreads()
    {
        _ready.CompleteAdding();
        List<Thread>? threads;
        lock (_threadsGate) threads = _threads;
        foreach (var t in threads ?? [])
            if (!t.Join(TimeSpan.FromSeconds(30))) _log.LogWarning("ucx: request thread {Name} still runs at shutdown", t.Name);
    }
}
