using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A client's connection to one node over UCX: an endpoint on a private worker, request/reply
/// frames as active messages, and READs of the node's regions: one-sided (ucp_get_nbx) where the
/// node hands out memory keys, as messages the node serves where it does not. A caller
/// on any thread drives the worker itself while it waits for its own operation (up to
/// <see cref="UcxClientOptions.Spin"/>), then leaves it to the progress thread and blocks, up to
/// the timeout.
/// </summary>
public sealed unsafe partial class UcxClientConnection : IDisposable, IFrameReceiver
{
    readonly UcxWorker _worker;
    readonly UcxClientOptions _options;
    readonly Dictionary<ulong, UcxOperation> _calls = []; // only by whoever holds the worker
    readonly List<RemoteRegion> _regions = [];             // only by whoever holds the worker
    readonly Dictionary<ulong, PendingRead> _reads = [];    // only by whoever holds the worker
    readonly string _address;
    GCHandle _self;
    UcpEndpointHandle? _endpoint;
    nint _ep;
    volatile string? _failure;
    long _nextId;

    [ThreadStatic] static ReadWork? t_read;

    UcxClientConnection(UcxWorker worker, string address, UcxClientOptions options)
    {
        _worker = worker;
        _address = address;
        _options = options;
    }

    public string Address => _address;

    /// <summary>Why the connection failed, or null while it works.</summary>
    public string? Failure => _failure;

    public static UcxClientConnection Connect(string host, int port, UcxClientOptions? options = null)
    {
        options ??= new UcxClientOptions();
        if (!UcxEnvironment.IsAvailable(out string? problem)) throw new IOException(problem);
        IPAddress ip = IPAddress.TryParse(host, out var parsed) ? parsed
            : Resolve(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
              ?? throw new IOException($"{host} has no IPv4 address");
        if (ip.AddressFamily != AddressFamily.InterNetwork) throw new IOException($"{host}: only IPv4 addresses are supported");
        string address = $"{host}:{port}";
        var worker = UcxWorker.Start("client " + address, new UcxWorkerOptions { Spin = options.ProgressSpin, EstimatedEndpoints = options.EstimatedEndpoints });
        var connection = new UcxClientConnection(worker, address, options);
        try
        {
#pragma warning disable VSTHRD002 // connecting is synchronous by design; the handshake is bounded by the timeout
            byte[] node = UcxHandshake.ConnectAsync(worker, new IPEndPoint(ip, port), address, options).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
            var connect = new ConnectWork(connection, node);
            worker.Post(connect);
            if (!connect.Done.Wait(options.Timeout)) throw new IOException($"connecting to {address} timed out");
            if (connect.Error is not null) throw new IOException($"cannot connect to {address}: {connect.Error}");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The host's addresses; a name that does not resolve is an <see cref="IOException"/> naming it, as an unreachable node is.</summary>
    static IPAddress[] Resolve(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new IOException($"the host name {host} does not resolve: {e.Message}", e);
        }
    }

    /// <summary>
    /// Sends a request frame and returns the reply frame; throws <see cref="IOException"/> when the
    /// node does not answer in time, and <see cref="UcxNotSentException"/> when the request surely
    /// did not leave (the connection had failed before UCX took it).
    /// </summary>
    public byte[] Call(ReadOnlySpan<byte> frame, ulong id)
    {
        if (_failure is string failed) throw new UcxNotSentException(failed);
        var op = new UcxOperation();
        op.Begin(1, 0);
        var work = new SendWork(this, op, id, frame.ToArray());
        if (!Await(work, op))
        {
            TryPost(new ForgetWork(this, id));
            throw new IOException(_failure ?? $"node {_address} did not answer within {_options.Timeout.TotalSeconds:0.#} s");
        }
        try
        {
            if (op.Status != 0)
            {
                string reason = $"node {_address}: {_failure ?? Ucp.Describe(op.Status)}";
                throw work.Sent ? new IOException(reason) : new UcxNotSentException(reason);
            }
            return op.Reply!;
        }
        finally
        {
            op.Dispose();
        }
    }

    public ulong NextId() => (ulong)Interlocked.Increment(ref _nextId);

    /// <summary>
    /// Makes a partition's region generation readable: unpacks its rkey (<paramref name="remoteKey"/>
    /// at <paramref name="remoteAddress"/>), or, when the node gave none, reads it with messages.
    /// </summary>
    public RemoteRegion Attach(int partition, ulong generation, long length, ulong remoteAddress, byte[]? remoteKey)
    {
        ThrowIfFailed();
        if (remoteKey is not null && remoteAddress == 0)
            throw new IOException($"node {_address} sent a remote key without an address for partition {partition}");
        var work = new AttachWork(this, partition, generation, length, remoteAddress, remoteKey);
        if (!TryPost(work)) throw new IOException(_failure ?? $"the connection to {_address} is closed");
        if (!work.Done.Wait(_options.Timeout)) throw new IOException($"node {_address}: unpacking a remote key timed out");
        return work.Region ?? throw new IOException($"node {_address}: cannot use the remote key of partition {partition}: {work.Error}");
    }

    /// <summary>READs <paramref name="destination"/>.Length bytes at <paramref name="offset"/> of the region; false when the read failed.</summary>
    public bool Read(RemoteRegion region, long offset, Span<byte> destination) =>
        Read(region, offset, destination, -1, default);

    /// <summary>Two READs in flight at once (one round trip); false when either failed.</summary>
    public bool Read(RemoteRegion region, long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB)
    {
        if (region.IsClosed || _failure is not null) return false;
        if (!InRange(region, offsetA, destinationA.Length) || (offsetB >= 0 && !InRange(region, offsetB, destinationB.Length))) return false;
        int total = destinationA.Length + (offsetB >= 0 ? destinationB.Length : 0);
        if (!region.OneSided && total > MessageReads.MaxReplyBytes) return ReadLarge(region, offsetA, destinationA, offsetB, destinationB);
        var work = t_read ??= new ReadWork();
        var op = work.Operation;
        op.Begin(region.OneSided && offsetB >= 0 ? 2 : 1, total);
        work.Set(this, region, offsetA, destinationA.Length, offsetB, destinationB.Length);
        if (!Await(work, op))
        {
            t_read = null; // abandoned: whoever completes it frees it
            Fail($"a READ from {_address} took longer than {_options.Timeout.TotalSeconds:0.#} s");
            return false;
        }
        if (op.Status != 0) return false;
        new ReadOnlySpan<byte>(op.Buffer, destinationA.Length).CopyTo(destinationA);
        if (offsetB >= 0) new ReadOnlySpan<byte>(op.Buffer + destinationA.Length, destinationB.Length).CopyTo(destinationB);
        return true;
    }

    /// <summary>
    /// Issues every READ of <paramref name="parts"/> at once (one round trip for all, as far as the
    /// transport allows) and copies them back to back into <paramref name="destination"/>;
    /// false when any failed.
    /// </summary>
    public bool ReadMany(ReadOnlySpan<ReadPart> parts, Span<byte> destination)
    {
        if (parts.IsEmpty) return true;
        if (_failure is not null) return false;
        int total = 0;
        foreach (var p in parts)
        {
            if (p.Region.IsClosed || !InRange(p.Region, p.Offset, p.Length)) return false;
            total += p.Length;
        }
        if (total > destination.Length) throw new ArgumentException($"{total} bytes do not fit in {destination.Length}", nameof(destination));
        if (total == 0) return true;
        IUcxWork work;
        var op = new UcxOperation();
        if (parts[0].Region.OneSided)
        {
            op.Begin(parts.Length, total);
            work = new ManyReadWork(this, op, parts.ToArray());
        }
        else
        {
            var messages = PlanMessages(parts);
            op.Begin(messages.Count, total);
            work = new MessageReadWork(this, op, messages);
        }
        if (!Await(work, op))
        {
            Fail($"READs from {_address} took longer than {_options.Timeout.TotalSeconds:0.#} s");
            return false;
        }
        try
        {
            if (op.Status != 0) return false;
            new ReadOnlySpan<byte>(op.Buffer, total).CopyTo(destination);
            return true;
        }
        finally
        {
            op.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> and waits for <paramref name="op"/>: driving the worker on
    /// this thread first, then blocked while the progress thread carries on. False when the
    /// timeout passed (the operation is then abandoned).
    /// </summary>
    bool Await(IUcxWork work, UcxOperation op)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            if (_worker.Drive(work, op, _options.Spin)) return op.Wait(_options.Timeout, TimeSpan.Zero);
        }
        catch (ObjectDisposedException)
        {
            // The connection closed under this call; the work never ran, so nothing else completes it.
            while (!op.IsFinished) op.Complete(-25); // UCS_ERR_CONNECTION_RESET
            return op.Wait(_options.Timeout, TimeSpan.Zero);
        }
        using var blocked = _worker.Block();
        return op.Wait(_options.Timeout - System.Diagnostics.Stopwatch.GetElapsedTime(start), TimeSpan.Zero);
    }

    static bool InRange(RemoteRegion region, long offset, int length) =>
        offset >= 0 && length >= 0 && offset <= region.Length - length;

    void ThrowIfFailed()
    {
        if (_failure is string f) throw new IOException(f);
    }

    /// <summary>Marks the connection failed and closes the endpoint, failing what is in flight.</summary>
    void Fail(string reason)
    {
        if (_failure is not null) return;
        _failure = reason;
        TryPost(new CloseWork(this));
    }

    /// <summary>Posts work to the worker; false when the connection was disposed meanwhile (another thread closed it).</summary>
    bool TryPost(IUcxWork work)
    {
        try
        {
            _worker.Post(work);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    void CloseOnProgressThread()
    {
        foreach (var r in _regions)
        {
            r.IsClosed = true;
            r.KeyHandle?.Dispose();
        }
        _regions.Clear();
        _endpoint?.Dispose(); // a forced close fails outstanding READs and sends
        _endpoint = null;
        _ep = 0;
        foreach (var op in _calls.Values) op.Complete(-25); // UCS_ERR_CONNECTION_RESET
        _calls.Clear();
        foreach (var read in _reads.Values) read.Operation.Complete(-25);
        _reads.Clear();
        if (_self.IsAllocated) _self.Free();
    }

    void IFrameReceiver.Receive(UcxWorker worker, nint replyEndpoint, ulong id, ReadOnlySpan<byte> frame)
    {
        if (!_calls.Remove(id, out var op)) return; // given up on, or no id: nobody waits for it
        op.Reply = frame.ToArray();
        op.Complete(0);
    }

    void IFrameReceiver.Oversized(UcxWorker worker, nint replyEndpoint, ulong id, ulong length) =>
        Fail($"node {_address} sent a reply of {length} bytes, more than a frame may hold");

    [UnmanagedCallersOnly]
    static void OnEndpointError(nint arg, nint endpoint, int status)
    {
        try
        {
            var connection = (UcxClientConnection)GCHandle.FromIntPtr(arg).Target!;
            connection.Fail($"the connection to {connection._address} failed: {Ucp.Describe(status)}");
        }
        catch (Exception e)
        {
            System.Diagnostics.Trace.TraceError($"ucx: endpoint error handler failed: {e}");
        }
    }

    [UnmanagedCallersOnly]
    static void OnReadDone(nint request, int status, nint userData)
    {
        try
        {
            UcxOperation.FromCookie(userData).Complete(status);
        }
        catch (Exception e)
        {
            System.Diagnostics.Trace.TraceError($"ucx: READ completion failed: {e}");
        }
        finally
        {
            Ucp.RequestFree(request);
        }
    }

    public void Dispose()
    {
        if (_failure is null) _failure = $"the connection to {_address} is closed";
        TryPost(new CloseWork(this));
        _worker.Dispose();
    }
}
