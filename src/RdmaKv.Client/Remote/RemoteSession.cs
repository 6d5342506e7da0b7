using System.Buffers;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Client;

/// <summary>
/// A client's session with a remote node over UCX: the handshake and then Hello with the
/// credential, every partition's region, requests as active messages. A failed connection is dropped and the next
/// request reconnects; a node that does not answer gives a <see cref="KvConnectionException"/>
/// within <see cref="KvClientOptions.Timeout"/>.
/// </summary>
sealed class RemoteSession : INodeSession
{
    readonly string _host;
    readonly int _port;
    readonly KvClientOptions _options;
    readonly string? _credential;
    readonly Lock _gate = new();
    UcxClientConnection? _connection;
    RemotePartition[] _partitions = [];
    bool _disposed;

    RemoteSession(string host, int port, KvClientOptions options)
    {
        _host = host;
        _port = port;
        _options = options;
        _credential = options.Credential ?? Environment.GetEnvironmentVariable("RDMAKV_TOKEN")
            ?? (Environment.GetEnvironmentVariable("RDMAKV_TOKEN_FILE") is { Length: > 0 } file ? File.ReadAllText(file).Trim() : null);
        View = null!;
    }

    public NodeView View { get; private set; }
    public string Address => $"ucx://{_host}:{_port}";

    public static (string Host, int Port) ParseAddress(string text) =>
        Core.Cluster.ClusterMap.TrySplitAddress(text, out string host, out int port)
            ? (host, port)
            : throw new ArgumentException($"'ucx://{text}' is not ucx://HOST:PORT");

    public static RemoteSession Open(string host, int port, KvClientOptions options)
    {
        var session = new RemoteSession(host, port, options);
        try
        {
            lock (session._gate) session.Reconnect();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IPartitionReader Partition(int partition) => Volatile.Read(ref _partitions)[partition];

    /// <summary>Many keys' READs in flight at once; <paramref name="single"/> resolves what the batch could not.</summary>
    public byte[]?[] MultiGet(IReadOnlyList<byte[]> keys, LocationCache cache, ReaderContext context, Func<byte[], byte[]?> single)
    {
        UcxClientConnection? connection;
        lock (_gate) connection = _connection is { Failure: null } c ? c : null;
        var partitions = Volatile.Read(ref _partitions);
        if (connection is null || partitions.Length == 0) return [.. keys.Select(single)];
        return RemoteMultiGet.Run(connection, partitions, View.HashSeed, keys, cache, context, single);
    }

    /// <summary>
    /// Runs after a refresh fetched new region descriptors and before readers can use them, on
    /// the refreshing thread, under this session's lock (it may call this session, no other). A
    /// cluster client fetches the map from this node here: a node retires its regions only after
    /// it gave a moved partition away, so a reader that sees the new regions then sees the map
    /// that says so.
    /// </summary>
    internal Action<RemoteSession>? BeforeNewRegions { get; set; }

    public void Refresh()
    {
        lock (_gate)
        {
            if (_connection is null || _connection.Failure is not null)
            {
                Reconnect();
                // The new connection's regions are in use already; the map follows before this
                // caller reads again (other threads may read them in between).
                BeforeNewRegions?.Invoke(this);
                return;
            }
            var connection = _connection;
            var view = Call(static (w, id, _) => MessageEncoder.Empty(w, MessageType.Regions, id), 0, static m => m.Node)
                ?? throw new KvConnectionException($"{Address} did not describe its regions");
            BeforeNewRegions?.Invoke(this);
            if (_connection != connection) throw new KvConnectionException($"the connection to {Address} failed during a refresh");
            Map(connection, view);
        }
    }

    void Reconnect()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Drop();
        UcxClientConnection connection;
        try
        {
            connection = UcxClientConnection.Connect(_host, _port, new UcxClientOptions
            {
                Timeout = _options.Timeout,
                Spin = _options.RemoteSpin,
                MaxReplyLength = Wire.MaxFrameLength,
                Credential = _credential,
                ProtocolVersion = Wire.ProtocolVersion,
            });
        }
        catch (UcxRefusedException e) when (e.Verdict is UcxVerdict.Unauthorized or UcxVerdict.WrongVersion)
        {
            throw new KvException(e.Verdict == UcxVerdict.Unauthorized ? StoreStatus.Unauthorized : StoreStatus.UnsupportedVersion, e.Message);
        }
        catch (IOException e)
        {
            throw new KvConnectionException($"cannot reach {Address}: {e.Message}", e);
        }
        try
        {
            var reply = Exchange(connection, static (w, id, s) => MessageEncoder.Hello(w, id, s._options.ClientName, s._credential), this, static m => m);
            if (reply.Status != StoreStatus.Ok || reply.Node is null) throw new KvException(reply.Status, reply.Text);
            Map(connection, reply.Node);
            _connection = connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    void Map(UcxClientConnection connection, NodeView view)
    {
        var current = _connection == connection ? _partitions : [];
        var next = new RemotePartition[view.PartitionCount];
        Span<byte> page = stackalloc byte[RegionHeader.Size];
        foreach (var d in view.Regions)
        {
            if ((uint)d.Partition >= (uint)next.Length) throw new KvConnectionException($"{Address} described partition {d.Partition} of {view.PartitionCount}");
            if (d.Partition < current.Length && current[d.Partition].Generation == d.Generation)
            {
                next[d.Partition] = current[d.Partition];
                continue;
            }
            RemoteRegion region;
            try
            {
                region = connection.Attach(d.Partition, d.Generation, d.Length, d.RemoteAddress, d.RemoteKey);
            }
            catch (IOException e)
            {
                throw new KvConnectionException(e.Message, e);
            }
            if (!connection.Read(region, 0, page) || !RegionHeader.TryRead(page, out var header) || header.RegionSize > d.Length)
                throw new KvConnectionException($"{Address}: the header of partition {d.Partition} could not be read or is invalid");
            next[d.Partition] = new RemotePartition(connection, region, header);
        }
        if (Array.IndexOf(next, null) >= 0) throw new KvConnectionException($"{Address} did not describe every partition");
        View = view;
        Volatile.Write(ref _partitions, next);
    }

    void Drop()
    {
        _connection?.Dispose();
        _connection = null;
    }

    delegate void Encoder<TState>(ArrayBufferWriter<byte> output, ulong id, TState state) where TState : allows ref struct;

    T Exchange<TState, T>(UcxClientConnection connection, Encoder<TState> encode, TState state, Func<Message, T> use)
        where TState : allows ref struct
    {
        var output = new ArrayBufferWriter<byte>(256);
        ulong id = connection.NextId();
        encode(output, id, state);
        byte[] reply;
        try
        {
            reply = connection.Call(output.WrittenSpan[Wire.LengthPrefix..], id);
        }
        catch (UcxNotSentException e)
        {
            throw new KvConnectionException($"{Address}: {e.Message}", e) { NotSent = true };
        }
        catch (IOException e)
        {
            throw new KvConnectionException($"{Address}: {e.Message}", e);
        }
        if (!MessageDecoder.TryDecode(reply, out var message, out string error))
            throw new KvConnectionException($"{Address} sent a malformed reply: {error}");
        return use(message);
    }

    T Call<TState, T>(Encoder<TState> encode, TState state, Func<Message, T> use) where TState : allows ref struct
    {
        UcxClientConnection connection;
        lock (_gate)
        {
            if (_connection is null || _connection.Failure is not null)
            {
                try
                {
                    Reconnect();
                }
                catch (KvConnectionException e) when (!e.NotSent)
                {
                    throw new KvConnectionException(e.Message, e.InnerException) { NotSent = true }; // the request has not left
                }
            }
            connection = _connection!;
        }
        try
        {
            return Exchange(connection, encode, state, use);
        }
        catch (KvConnectionException)
        {
            lock (_gate) if (_connection == connection) Drop(); // the next call reconnects
            throw;
        }
    }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt) =>
        Call(static (w, id, kv) => MessageEncoder.Put(w, id, kv.Key, kv.Value, expiresAt: kv.ExpiresAt), new KeyValue(key, value, expiresAt), Replies.Status);

    public bool Delete(ReadOnlySpan<byte> key) =>
        Call(static (w, id, kv) => MessageEncoder.KeyOnly(w, MessageType.Delete, id, kv.Key), new KeyValue(key, default), Replies.Status) == StoreStatus.Ok;

    public byte[]? FallbackGet(ReadOnlySpan<byte> key) => FallbackGetWithExpiry(key).Value;

    public (byte[]? Value, long ExpiresAt) FallbackGetWithExpiry(ReadOnlySpan<byte> key) =>
        Call(static (w, id, kv) => MessageEncoder.KeyOnly(w, MessageType.Get, id, kv.Key), new KeyValue(key, default),
            static m => Replies.Status(m) == StoreStatus.Ok && m.HasValue ? (m.Value.ToArray(), m.ExpiresAt) : ((byte[]?)null, 0L));

    public void PutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs) =>
        Call(static (w, id, p) => MessageEncoder.MultiPut(w, id, p), pairs, Replies.Status);

    public void Report(IReadOnlyDictionary<string, long> counters) =>
        Call(static (w, id, c) => MessageEncoder.ClientReport(w, id, c), counters, Replies.Status);

    /// <summary>The node's cluster map (its JSON), or null when the node is on its own.</summary>
    public string? ClusterMapJson() =>
        Call(static (w, id, _) => MessageEncoder.Empty(w, MessageType.ClusterMap, id), 0,
            Replies.ClusterMapJson);

    public IReadOnlyDictionary<string, long> Stats() =>
        Call(static (w, id, _) => MessageEncoder.Empty(w, MessageType.Stats, id), 0,
            static m => m.Stats ?? throw new KvConnectionException("the node sent no stats"));

    // The UCX request path blocks a thread for one round trip; async callers get it off theirs.
    public ValueTask<StoreStatus> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long expiresAt, CancellationToken cancel) =>
        new(Task.Run(() =>
        {
            Put(key.Span, value.Span, expiresAt);
            return StoreStatus.Ok;
        }, cancel));

    public ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancel) =>
        new(Task.Run(() => Delete(key.Span), cancel));

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Drop();
            _partitions = [];
        }
    }
}
