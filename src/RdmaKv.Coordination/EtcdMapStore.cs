using Etcdserverpb;
using Google.Protobuf;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Coordination;

/// <summary>
/// The cluster map as one etcd key, <c>{prefix}map</c>, holding <see cref="ClusterMap.ToJson"/>.
/// It is created only where absent and replaced only by a transaction that compares its
/// mod_revision, so two writers never overwrite each other unseen. Usable alone (the CLI's
/// <c>cluster init</c>) or through <see cref="EtcdCoordinator"/>. Thread-safe.
/// </summary>
public sealed class EtcdMapStore : IDisposable
{
    readonly EtcdChannel _channel;
    readonly bool _ownsChannel;
    readonly TimeSpan _timeout;
    readonly ByteString _key;

    EtcdMapStore(EtcdChannel channel, bool ownsChannel, string prefix, TimeSpan timeout)
    {
        _channel = channel;
        _ownsChannel = ownsChannel;
        _timeout = timeout;
        Key = prefix + "map";
        _key = ByteString.CopyFromUtf8(Key);
        _membersPrefix = prefix + "members/";
    }

    readonly string _membersPrefix;

    internal static EtcdMapStore Over(EtcdChannel channel, string prefix, TimeSpan timeout) => new(channel, false, prefix, timeout);

    /// <summary>
    /// A store of its own connection to <paramref name="endpoints"/> (checked as
    /// <see cref="EtcdOptions.Validate"/> does); no lease, no membership. Nothing is sent until the first call.
    /// </summary>
    public static EtcdMapStore Open(string[] endpoints, string prefix = "/rdmakv/", TimeSpan? timeout = null)
    {
        new EtcdOptions { Endpoints = endpoints, Prefix = prefix, NodeId = "map-store" }.Validate();
        return new EtcdMapStore(new EtcdChannel(endpoints), true, prefix, timeout ?? TimeSpan.FromSeconds(3));
    }

    /// <summary>The etcd key holding the map.</summary>
    public string Key { get; }

    /// <summary>Stores <paramref name="map"/> if no map is stored (compare create_revision == 0); false if one is.</summary>
    public async Task<bool> TryInitMapAsync(ClusterMap map, CancellationToken cancel = default)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = _key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(Put(map));
        return (await CallAsync(t => _channel.Kv.TxnAsync(txn, deadline: t, cancellationToken: cancel))).Succeeded;
    }

    /// <summary>The stored map and its mod_revision (the one to pass to <see cref="TryReplaceMapAsync"/>); (null, 0) when none is stored.</summary>
    /// <exception cref="InvalidDataException">The stored value is not a valid map.</exception>
    public async Task<(ClusterMap? Map, long Revision)> ReadMapAsync(CancellationToken cancel = default)
    {
        var read = await CallAsync(t => _channel.Kv.RangeAsync(new RangeRequest { Key = _key }, deadline: t, cancellationToken: cancel));
        return read.Kvs.Count == 0 ? (null, 0) : (Parse(read.Kvs[0].Value), read.Kvs[0].ModRevision);
    }

    /// <summary>
    /// Replaces the map with <paramref name="next"/> if it is still at <paramref name="expectedRevision"/>
    /// (compare mod_revision); false if anyone changed it since.
    /// </summary>
    public async Task<bool> TryReplaceMapAsync(ClusterMap next, long expectedRevision, CancellationToken cancel = default) =>
        (await ReplaceAsync(next, expectedRevision, null, cancel)).Succeeded;

    /// <summary>
    /// Reads the map, applies <paramref name="change"/> and writes the result if the map did not
    /// change meanwhile, else applies it again to the newer map, until it sticks. Returns the map
    /// written, or null when <paramref name="change"/> returned null (nothing to do).
    /// <paramref name="change"/> may run several times and must not have side effects.
    /// </summary>
    /// <exception cref="InvalidOperationException">No map is stored (run <c>rdmakv cluster init</c>).</exception>
    public Task<ClusterMap?> UpdateMapAsync(Func<ClusterMap, ClusterMap?> change, CancellationToken cancel = default) => UpdateMapAsync(change, null, cancel);

    /// <summary>
    /// As <see cref="UpdateMapAsync(Func{ClusterMap, ClusterMap?}, CancellationToken)"/>, storing
    /// only while none of the nodes in <paramref name="whileAbsent"/> has a member key, in the same
    /// transaction (compare create_revision == 0 on each): null when one has.
    /// </summary>
    public async Task<ClusterMap?> UpdateMapAsync(Func<ClusterMap, ClusterMap?> change, IReadOnlyCollection<string>? whileAbsent, CancellationToken cancel = default)
    {
        var (map, revision) = await ReadMapAsync(cancel);
        while (true)
        {
            if (map is null) throw new InvalidOperationException($"etcd holds no cluster map at {Key}; seed one with 'rdmakv cluster init FILE --etcd URL'");
            var next = change(map);
            if (next is null) return null;
            var written = await ReplaceAsync(next, revision, whileAbsent, cancel);
            if (written.Succeeded) return next;
            var current = written.Responses[0].ResponseRange.Kvs;
            long now = current.Count == 0 ? 0 : current[0].ModRevision;
            // The map did not change: a node that was to be absent is a member.
            if (now == revision && whileAbsent is { Count: > 0 }) return null;
            (map, revision) = current.Count == 0 ? (null, 0) : (Parse(current[0].Value), current[0].ModRevision);
        }
    }

    /// <summary>Blocking <see cref="TryInitMapAsync"/>.</summary>
    public bool TryInitMap(ClusterMap map) => TryInitMapAsync(map).GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="ReadMapAsync"/>.</summary>
    public (ClusterMap? Map, long Revision) ReadMap() => ReadMapAsync().GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="TryReplaceMapAsync"/>.</summary>
    public bool TryReplaceMap(ClusterMap next, long expectedRevision) => TryReplaceMapAsync(next, expectedRevision).GetAwaiter().GetResult();

    /// <summary>Blocking <see cref="UpdateMapAsync"/>.</summary>
    public ClusterMap? UpdateMap(Func<ClusterMap, ClusterMap?> change, IReadOnlyCollection<string>? whileAbsent = null) =>
        UpdateMapAsync(change, whileAbsent).GetAwaiter().GetResult();

    /// <summary>Parses a stored map; says which key held what when it is not a map.</summary>
    internal ClusterMap Parse(ByteString value)
    {
        try
        {
            return ClusterMap.Parse(value.ToStringUtf8());
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"the cluster map in etcd at {Key} is not valid: {e.Message}", e);
        }
    }

    Task<TxnResponse> ReplaceAsync(ClusterMap next, long expectedRevision, IReadOnlyCollection<string>? whileAbsent, CancellationToken cancel)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = _key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedRevision });
        foreach (string node in whileAbsent ?? [])
            txn.Compare.Add(new Compare { Key = ByteString.CopyFromUtf8(_membersPrefix + node), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(Put(next));
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = _key } });
        return CallAsync(t => _channel.Kv.TxnAsync(txn, deadline: t, cancellationToken: cancel));
    }

    RequestOp Put(ClusterMap map) => new() { RequestPut = new PutRequest { Key = _key, Value = ByteString.CopyFromUtf8(map.ToJson()) } };

    /// <summary>Runs one call with the store's deadline; an unreachable etcd becomes a <see cref="CoordinationException"/>.</summary>
    async Task<T> CallAsync<T>(Func<DateTime, Grpc.Core.AsyncUnaryCall<T>> call)
    {
        try
        {
            return await call(DateTime.UtcNow + _timeout);
        }
        catch (Exception e) when (CoordinationException.IsEtcdFailure(e) && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            throw new CoordinationException($"etcd at {_channel.Endpoints} did not answer: {CoordinationException.Describe(e)}", e);
        }
    }

    /// <summary>Closes the connection if the store opened it.</summary>
    public void Dispose()
    {
        if (_ownsChannel) _channel.Dispose();
    }
}
