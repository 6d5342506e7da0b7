using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport;

namespace RdmaKv.Client;

/// <summary>
/// A client's session with one local node: the request channel, the node's view, and a mapping
/// of each partition's current region. A lost connection is reopened on the next request.
/// </summary>
sealed class NodeSession : INodeSession
{
    readonly NodeDirectory _directory;
    readonly KvClientOptions _options;
    readonly Lock _refreshLock = new();
    RequestChannel? _channel;
    MappedPartition[] _partitions = [];
    bool _disposed;
    int _reconnects;
    Exception? _lastReconnectError;
    uint? _nodeOwner; // the uid that owns the node's directory, checked at each connect

    NodeSession(NodeDirectory directory, KvClientOptions options)
    {
        _directory = directory;
        _options = options;
        View = null!;
    }

    public NodeView View { get; private set; }

    public static NodeSession Open(string name, KvClientOptions options)
    {
        var session = new NodeSession(new NodeDirectory(name, options.SharedMemoryRoot), options);
        try
        {
            session.Reconnect();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IPartitionReader Partition(int partition) => Volatile.Read(ref _partitions)[partition];

    /// <summary>Asks the node where its regions are now and maps those that changed.</summary>
    public void Refresh()
    {
        lock (_refreshLock)
        {
            // Through Call, so a lost connection is dropped and the next read reconnects.
            var view = Call(0, static (w, id, _) => MessageEncoder.Empty(w, MessageType.Regions, id), static m => m.Node)
                ?? throw new KvConnectionException($"node '{_directory.Name}' did not describe its regions");
            Map(view, sameNode: true);
        }
    }

    void Reconnect()
    {
        lock (_refreshLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _channel?.Dispose();
            _channel = null;
            _reconnects++;
            try
            {
                Connect();
                _lastReconnectError = null;
            }
            catch (Exception e) when (e is KvConnectionException or KvException)
            {
                _lastReconnectError = e;
                throw;
            }
        }
    }

    void Connect()
    {
        try
        {
            _nodeOwner = _directory.VerifyOwner(_options.NodeOwner)
                ?? throw new KvConnectionException($"no node named '{_directory.Name}' is running here ({_directory.Path} does not exist)");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KvConnectionException($"refusing node '{_directory.Name}': {e.Message}", e);
        }
        catch (IOException e) when (e is not KvConnectionException)
        {
            throw new KvConnectionException($"cannot check node '{_directory.Name}': {e.Message}", e);
        }
        var channel = RequestChannel.Open(_directory.SocketPath, _directory.Name, _options.SpinBeforeBlock, _options.Timeout);
        try
        {
            var reply = channel.Call(_options.ClientName,
                static (w, id, name) => MessageEncoder.Hello(w, id, name, credential: null), static m => m);
            if (reply.Status != StoreStatus.Ok || reply.Node is null) throw new KvException(reply.Status, reply.Text);
            if (_options.LocalWrites == LocalWritePath.Mailbox) channel.UseMailbox(_options.SpinBeforeBlock, _directory.Path);
            Map(reply.Node, sameNode: false);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        _channel = channel;
    }

    /// <summary>
    /// Maps the regions <paramref name="view"/> describes. A mapping is kept only when it is the same
    /// node's same generation: a new connection may reach a restarted node whose generations
    /// start again at 1 in new files.
    /// </summary>
    void Map(NodeView view, bool sameNode)
    {
        var current = _partitions;
        var next = new MappedPartition[view.PartitionCount];
        var replaced = new List<MappedPartition>();
        try
        {
            foreach (var region in view.Regions)
            {
                if (sameNode && region.Partition < current.Length && current[region.Partition].Generation == region.Generation)
                {
                    next[region.Partition] = current[region.Partition];
                    continue;
                }
                if (region.Path is null) throw new KvConnectionException($"node '{view.NodeName}' offers no local mapping of partition {region.Partition}");
                next[region.Partition] = new MappedPartition(OpenRegion(region.Path, region.Length), region.Generation);
                if (region.Partition < current.Length) replaced.Add(current[region.Partition]);
            }
        }
        catch
        {
            foreach (var p in next) if (p is not null && Array.IndexOf(current, p) < 0) p.Dispose();
            throw;
        }
        if (Array.IndexOf(next, null) >= 0) throw new KvConnectionException($"node '{view.NodeName}' did not describe every partition");
        View = view;
        Volatile.Write(ref _partitions, next);
        if (current.Length != next.Length) replaced = [.. current.Where(p => Array.IndexOf(next, p) < 0)];
        // Readers still holding a lease keep the old mapping alive until they let go.
        foreach (var old in replaced) old.Dispose();
    }

    MappedRegionFile OpenRegion(string path, long length)
    {
        try
        {
            return MappedRegionFile.Open(path, length, _nodeOwner);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KvConnectionException($"refusing node '{_directory.Name}': {e.Message}", e);
        }
    }

    /// <summary>
    /// The open channel, or a new one. Threads that queued behind a reconnect that failed get its
    /// error instead of each trying again: against a stopped node every try takes the timeout.
    /// </summary>
    RequestChannel Channel()
    {
        var channel = _channel;
        if (channel is not null) return channel;
        int seen = Volatile.Read(ref _reconnects);
        lock (_refreshLock)
        {
            if (_channel is not null) return _channel;
            if (_reconnects != seen && _lastReconnectError is { } failed)
                throw new KvConnectionException(failed.Message, failed);
            Reconnect();
            return _channel!;
        }
    }

    T Call<TState, T>(TState state, RequestChannel.Encoder<TState> encode, Func<Message, T> use)
        where TState : allows ref struct
    {
        var channel = Channel();
        try
        {
            return channel.Call(state, encode, use);
        }
        catch (KvConnectionException)
        {
            lock (_refreshLock) if (_channel == channel) _channel = null; // reopened by the next call
            channel.Dispose();
            throw;
        }
    }

    async ValueTask<T> CallAsync<T>(Action<System.Buffers.ArrayBufferWriter<byte>, ulong> encode, Func<Message, T> use, CancellationToken cancel)
    {
        var channel = Channel();
        try
        {
            return await channel.CallAsync(encode, use, cancel).ConfigureAwait(false);
        }
        catch (KvConnectionException)
        {
            lock (_refreshLock) if (_channel == channel) _channel = null;
            channel.Dispose();
            throw;
        }
    }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt) =>
        Call(new KeyValue(key, value, expiresAt), static (w, id, kv) => MessageEncoder.Put(w, id, kv.Key, kv.Value, expiresAt: kv.ExpiresAt), Replies.Status);

    public bool Delete(ReadOnlySpan<byte> key) =>
        Call(new KeyValue(key, default), static (w, id, kv) => MessageEncoder.KeyOnly(w, MessageType.Delete, id, kv.Key), Replies.Status)
            == StoreStatus.Ok;

    public byte[]? FallbackGet(ReadOnlySpan<byte> key) => FallbackGetWithExpiry(key).Value;

    public (byte[]? Value, long ExpiresAt) FallbackGetWithExpiry(ReadOnlySpan<byte> key) =>
        Call(new KeyValue(key, default), static (w, id, kv) => MessageEncoder.KeyOnly(w, MessageType.Get, id, kv.Key),
            static m => Replies.Status(m) == StoreStatus.Ok && m.HasValue ? (m.Value.ToArray(), m.ExpiresAt) : ((byte[]?)null, 0L));

    /// <summary>One key at a time: each local GET is a memory read already, there is no round trip to save.</summary>
    public byte[]?[] MultiGet(IReadOnlyList<byte[]> keys, LocationCache cache, ReaderContext context, Func<byte[], byte[]?> single) =>
        [.. keys.Select(single)];

    public void PutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs) =>
        Call(pairs, static (w, id, p) => MessageEncoder.MultiPut(w, id, p), Replies.Status);

    public void Report(IReadOnlyDictionary<string, long> counters) =>
        Call(counters, static (w, id, c) => MessageEncoder.ClientReport(w, id, c), Replies.Status);

    public IReadOnlyDictionary<string, long> Stats() =>
        Call(0, static (w, id, _) => MessageEncoder.Empty(w, MessageType.Stats, id),
            static m => m.Stats ?? throw new KvConnectionException("the node sent no stats"));

    public string? ClusterMapJson() =>
        Call(0, static (w, id, _) => MessageEncoder.Empty(w, MessageType.ClusterMap, id), Replies.ClusterMapJson);

    public ValueTask<StoreStatus> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long expiresAt, CancellationToken cancel) =>
        CallAsync((w, id) => MessageEncoder.Put(w, id, key.Span, value.Span, expiresAt: expiresAt), Replies.Status, cancel);

    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancel) =>
        await CallAsync((w, id) => MessageEncoder.KeyOnly(w, MessageType.Delete, id, key.Span), Replies.Status, cancel).ConfigureAwait(false)
            == StoreStatus.Ok;

    public void Dispose()
    {
        lock (_refreshLock)
        {
            _disposed = true;
            _channel?.Dispose();
            _channel = null;
            foreach (var p in _partitions) p.Dispose();
            _partitions = [];
        }
    }
}
