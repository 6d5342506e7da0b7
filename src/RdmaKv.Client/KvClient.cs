using System.Text;
using RdmaKv.Client.Routing;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Client;

/// <summary>
/// A connection to an RdmaKv node. GETs read the node's regions directly (one-sided: the node's
/// CPU never sees them) and validate what they read; puts and deletes are messages to the node.
/// Thread-safe: share one client across threads.
/// </summary>
/// <remarks>
/// URIs: <c>local:NAME</c>, a node on this host by its name (GETs read shared memory);
/// <c>ucx://HOST:PORT</c>, a node anywhere (GETs are one-sided UCX READs, RDMA on InfiniBand/RoCE);
/// <c>ucx://HOST:PORT,HOST:PORT</c> or <c>cluster:FILE</c>, a cluster through seeds (see README, Cluster).
/// Every call goes through a router: one node is a router of one route, a cluster routes each key
/// to its slot's owner, so several nodes plug in below this API.
/// </remarks>
public sealed partial class KvClient : IDisposable
{
    [ThreadStatic] static ReaderContext? t_reader;

    readonly IRouter _router;
    readonly long _reportMilliseconds;

    KvClient(IRouter router, KvClientOptions options)
    {
        _router = router;
        _reportMilliseconds = options.ReportInterval == Timeout.InfiniteTimeSpan ? long.MaxValue / 2 : (long)options.ReportInterval.TotalMilliseconds;
    }

    /// <summary>Connects to a node, e.g. <c>local:default</c>.</summary>
    public static KvClient Connect(string uri, KvClientOptions? options = null)
    {
        options ??= new KvClientOptions();
        const string local = "local:";
        if (uri.StartsWith(local, StringComparison.Ordinal))
        {
            string name = uri[local.Length..].TrimStart('/');
            return new KvClient(new OneNodeRouter(NodeSession.Open(name, options), options), options);
        }
        const string ucx = "ucx://";
        if (uri.StartsWith(ucx, StringComparison.Ordinal))
        {
            // One node, or seeds of a cluster: ucx://a:7400,b:7400 (any node hands out the map).
            var seeds = uri[ucx.Length..].TrimEnd('/').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(s => RemoteSession.ParseAddress(s.StartsWith(ucx, StringComparison.Ordinal) ? s[ucx.Length..] : s)).ToList();
            if (seeds.Count == 0) throw new ArgumentException($"'{uri}' names no node; use ucx://HOST:PORT[,HOST:PORT...]", nameof(uri));
            return new KvClient(ClusterRouter.Open(seeds, options), options);
        }
        const string cluster = "cluster:";
        if (uri.StartsWith(cluster, StringComparison.Ordinal))
        {
            // A cluster file: its nodes are the seeds; the map itself comes from the nodes (it may be newer).
            var map = Core.Cluster.ClusterMap.Load(uri[cluster.Length..]);
            return Connect("ucx://" + string.Join(",", map.Nodes.Select(n => n.Ucx)), options);
        }
        throw new ArgumentException($"'{uri}' is not a node address this client knows; use local:NAME, ucx://HOST:PORT[,HOST:PORT...] or cluster:FILE", nameof(uri));
    }

    public static Task<KvClient> ConnectAsync(string uri, KvClientOptions? options = null, CancellationToken cancel = default) =>
        Task.Run(() => Connect(uri, options), cancel);

    public string NodeName => _router.NodeName;

    /// <summary>The cluster map's epoch this client routes by (0 for a single node).</summary>
    public long ClusterEpoch => _router.Epoch;

    /// <summary>This thread's lookup state: its scratch buffer and counters, shared by every client the thread uses.</summary>
    internal static ReaderContext ThreadReader => t_reader ??= KvClientTelemetry.NewThreadReader();

    /// <summary>
    /// What this thread's GETs have counted so far, over every client it used: a snapshot (subtract
    /// two to see what happened in between).
    /// </summary>
    public static ReadStatistics ThreadReads => ReadStatistics.Of(ThreadReader);

    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        long started = KvClientTelemetry.Started();
        try
        {
            byte[]? value = GetValue(key);
            KvClientTelemetry.Completed(KvOperation.Get, started, value is not null);
            return value;
        }
        catch (Exception e) when (KvClientTelemetry.Failed(KvOperation.Get, started, e))
        {
            throw;
        }
    }

    /// <summary>As <see cref="Get(ReadOnlySpan{byte})"/>, not counted as an operation (a multi-get's keys).</summary>
    byte[]? GetValue(ReadOnlySpan<byte> key)
    {
        var reader = ThreadReader;
        return Find(key, reader, out byte[]? fromNode) ? reader.LastValue.ToArray() : fromNode;
    }

    public byte[]? Get(string key) => Get(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// Copies the value of <paramref name="key"/> into <paramref name="destination"/> without
    /// allocating. False when the key is absent. Throws when the value does not fit; the exception
    /// says how large it is.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> key, Span<byte> destination, out int valueLength)
    {
        long started = KvClientTelemetry.Started();
        try
        {
            bool found = TryGetValue(key, destination, out valueLength);
            KvClientTelemetry.Completed(KvOperation.Get, started, found);
            return found;
        }
        catch (Exception e) when (KvClientTelemetry.Failed(KvOperation.Get, started, e))
        {
            throw;
        }
    }

    bool TryGetValue(ReadOnlySpan<byte> key, Span<byte> destination, out int valueLength)
    {
        var reader = ThreadReader;
        ReadOnlySpan<byte> value;
        if (Find(key, reader, out byte[]? fromNode)) value = reader.LastValue;
        else if (fromNode is not null) value = fromNode;
        else
        {
            valueLength = 0;
            return false;
        }
        valueLength = value.Length;
        if (valueLength > destination.Length) ThrowTooSmall(valueLength, destination.Length);
        value.CopyTo(destination);
        return true;
    }

    /// <summary>
    /// Values of several keys, in order; null where a key is absent. Over UCX the READs of all
    /// keys are in flight together (a few round trips for the whole batch).
    /// </summary>
    public byte[]?[] MultiGet(IReadOnlyList<byte[]> keys)
    {
        foreach (var k in keys) Check(StoreStatusText.Validate(k.Length, 0));
        return MeasuredMultiGet(keys);
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>; returns once the node has published it.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Put(key, value, Expiry.Never);

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> until <paramref name="expiresAt"/>
    /// (kept to the millisecond): from then on the key reads as absent, and the node removes it. Every
    /// reader judges by its own clock, so clocks are assumed to agree to within a small skew (NTP).
    /// </summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset expiresAt) => Put(key, value, Expiry.From(expiresAt));

    public void Put(string key, string value) => Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));

    /// <summary>Stores a string value that expires <paramref name="timeToLive"/> from now.</summary>
    public void Put(string key, string value, TimeSpan timeToLive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), DateTimeOffset.UtcNow + timeToLive);
    }

    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt)
    {
        Check(StoreStatusText.Validate(key.Length, value.Length));
        OnOwner(key, new KeyValue(key, value, expiresAt), static (route, kv) =>
        {
            route.Session.Put(kv.Key, kv.Value, kv.ExpiresAt);
            return true;
        });
    }

    /// <summary>
    /// When <paramref name="key"/>'s value expires: false when the key is absent (or expired); true
    /// with <paramref name="expiresAt"/> null when it never expires. Asks the key's node (one round trip).
    /// </summary>
    public bool TryGetExpiry(ReadOnlySpan<byte> key, out DateTimeOffset? expiresAt)
    {
        Check(StoreStatusText.Validate(key.Length, 0));
        var (value, at) = OnOwner(key, new KeyValue(key, default), static (route, kv) => route.Session.FallbackGetWithExpiry(kv.Key));
        expiresAt = value is not null && at != Expiry.Never ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
        return value is not null;
    }

    /// <summary>
    /// Stores many pairs in as few messages as the frame limit allows (one, unless they exceed
    /// about 1 MiB or 4,096 pairs), in order; on failure the exception names the first pair not
    /// stored, and the pairs before it are stored.
    /// </summary>
    public void PutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs)
    {
        foreach (var (k, v) in pairs) Check(StoreStatusText.Validate(k.Length, v.Length));
        int start = 0;
        foreach (var batch in Batches(pairs))
        {
            try
            {
                RoutedPutMany(batch);
            }
            catch (KvException e) when (start > 0)
            {
                throw new KvException(e.Status, $"in the batch from pair {start} of {pairs.Count}: {e.Message}; the pairs before that batch were stored");
            }
            start += batch.Count;
        }
    }

    /// <summary>Consecutive runs of <paramref name="pairs"/> that each fit one message.</summary>
    static IEnumerable<IReadOnlyList<(byte[] Key, byte[] Value)>> Batches(IReadOnlyList<(byte[] Key, byte[] Value)> pairs)
    {
        const int PairOverhead = 16, FrameOverhead = 4096; // MessagePack headers, generously
        long budget = Wire.MaxFrameLength - FrameOverhead, used = 0;
        int from = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            long size = pairs[i].Key.Length + pairs[i].Value.Length + PairOverhead;
            if (i > from && (used + size > budget || i - from == Wire.MaxMultiPutPairs))
            {
                yield return Slice(pairs, from, i);
                from = i;
                used = 0;
            }
            used += size;
        }
        if (pairs.Count > from || pairs.Count == 0) yield return from == 0 ? pairs : Slice(pairs, from, pairs.Count);
    }

    static IReadOnlyList<(byte[] Key, byte[] Value)> Slice(IReadOnlyList<(byte[] Key, byte[] Value)> pairs, int from, int to) =>
        [.. Enumerable.Range(from, to - from).Select(i => pairs[i])];

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        Check(StoreStatusText.Validate(key.Length, 0));
        return OnOwner(key, new KeyValue(key, default), static (route, kv) => route.Session.Delete(kv.Key));
    }

    public bool Delete(string key) => Delete(Encoding.UTF8.GetBytes(key));

    /// <summary>The node's counters; for a cluster, every node's that answers, added up.</summary>
    public IReadOnlyDictionary<string, long> Stats() => _router.Stats();

    /// <summary>
    /// Each node's counters: one entry for a node on its own; for a cluster, every node of the
    /// map, with why it did not answer (within <see cref="KvClientOptions.Timeout"/>) when it did not.
    /// </summary>
    public IReadOnlyList<NodeStatistics> StatsByNode() => _router.StatsByNode();

    /// <summary>The number of slots in the cluster map; 0 for a node on its own.</summary>
    public int SlotCount => _router.SlotCount;

    LookupResult Lookup(ReadOnlySpan<byte> key, ReaderContext reader, INodeSession session, LocationCache cache)
    {
        if (Environment.TickCount64 - reader.LastReport >= _reportMilliseconds) Report(reader, session);
        var hash = KeyHash.Compute(key, session.View.HashSeed);
        int partition = hash.Partition(session.View.PartitionCount);
        for (int refresh = 0; ; refresh++)
        {
            LookupResult result = session.Partition(partition).Lookup(key, hash, cache, reader);
            if (result != LookupResult.Stale || refresh == 3) return result;
            reader.CountRefresh();
            session.Refresh();
        }
    }

    /// <summary>Sends this thread's reader counters; a failed report is dropped, never the GET.</summary>
    void Report(ReaderContext reader, INodeSession session)
    {
        reader.LastReport = Environment.TickCount64;
        var report = reader.TakeReport();
        if (report.Count == 0) return;
        try
        {
            session.Report(report);
        }
        catch (Exception e) when (e is KvConnectionException or KvException)
        {
        }
    }

    /// <summary>Sends what this thread's reads have counted since the last report now (tests, shutdown).</summary>
    public void ReportNow() => Report(ThreadReader, _router.Home.Session);

    static void Check(StoreStatus status)
    {
        if (status != StoreStatus.Ok) throw new KvException(status);
    }

    static void ThrowTooSmall(int needed, int given) =>
        throw new ArgumentException($"the value is {needed} bytes; the destination holds {given}", "destination");

    public void Dispose() => _router.Dispose();
}
