using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace RdmaKv.Resp;

/// <summary>
/// The RESP gateway's TCP listener: one asynchronous loop per connection over System.IO.Pipelines.
/// Each read parses every whole command in the buffer, answers them in order into the
/// connection's output, and flushes once, so pipelined commands cost one write. A frame that
/// breaks the protocol or a limit gets "-ERR Protocol error: ..." and the connection closes; no
/// connection's failure reaches another or the node.
/// </summary>
public sealed class RespServer : IDisposable
{
    /// <summary>Replies are flushed during a batch once this many bytes wait, so a long pipeline does not pile up in memory.</summary>
    const int FlushThreshold = 256 * 1024;

    readonly Socket _listener;
    readonly IRespStore _store;
    readonly RespParser _parser;
    readonly ILogger _log;
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<long, (Socket Socket, Task Serving)> _connections = new();
    readonly Task _accepting;
    long _nextId;
    int _disposed;

    RespServer(IRespStore store, IPEndPoint at, RespLimits limits, ILogger log)
    {
        _store = store;
        _parser = new RespParser(limits);
        _log = log;
        _listener = new Socket(at.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(at);
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Listens on <paramref name="at"/> (port 0 picks a free one); throws <see cref="SocketException"/> when it cannot.</summary>
    public static RespServer Start(IRespStore store, IPEndPoint at, ILogger log, RespLimits? limits = null) =>
        new(store, at, limits ?? RespLimits.Default, log);

    public IPEndPoint EndPoint { get; }

    public RespCounters Counters { get; } = new();

    async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                if (_stop.IsCancellationRequested) return;
                continue; // a connection that failed while it was accepted (reset): keep listening
            }
            socket.NoDelay = true;
            long id = Interlocked.Increment(ref _nextId);
            Interlocked.Increment(ref Counters.ConnectionsTotal);
            Interlocked.Increment(ref Counters.ConnectionsOpen);
            // Registered before it runs, so its own removal at the end always finds it.
            var serving = new Task<Task>(() => ServeAsync(id, socket));
            _connections[id] = (socket, serving.Unwrap());
            serving.Start(TaskScheduler.Default);
            if (_stop.IsCancellationRequested) socket.Dispose();
        }
    }

    async Task ServeAsync(long id, Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        var session = new RespSession(id, _store, new RespWriter(output), Counters, EndPoint.Port);
        var command = new RespCommand();
        try
        {
            bool closing = false;
            while (!closing)
            {
                ReadResult read = await input.ReadAsync(_stop.Token);
                var buffer = read.Buffer;
                long before = buffer.Length;
                try
                {
                    while (!closing && _parser.TryRead(ref buffer, command))
                    {
                        if (command.Count == 0) continue;
                        session.Execute(command);
                        closing = session.Closing;
                        if (output.UnflushedBytes > FlushThreshold) await output.FlushAsync(_stop.Token);
                    }
                }
                catch (RespProtocolException e)
                {
                    Interlocked.Increment(ref Counters.ProtocolErrors);
                    session.Writer.Error($"ERR Protocol error: {e.Message}");
                    closing = true;
                }
                Interlocked.Add(ref Counters.BytesIn, before - buffer.Length);
                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(_stop.Token);
                if (read.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the gateway is stopping.
        }
        catch (Exception e)
        {
            _log.LogError(e, "RESP connection {Id} failed; it is closed and the node serves on", id);
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            await stream.DisposeAsync();
            Interlocked.Decrement(ref Counters.ConnectionsOpen);
            _connections.TryRemove(id, out _);
        }
    }

    /// <summary>Stops listening, closes every connection and waits (a few seconds at most) for their loops to end.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _listener.Dispose();
        foreach (var (_, (socket, _)) in _connections) socket.Dispose();
        var serving = _connections.Values.Select(c => c.Serving).Append(_accepting).ToArray();
        try
        {
            Task.WaitAll(serving, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
