using RdmaKv.Client.Cluster;
using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// A client of a cluster: every key goes to its slot's owner (GETs read that node's regions
/// one-sided); a WrongSlot answer refreshes the map and retries, unseen by the caller.
/// </summary>
public sealed partial class KvClient
{
    KvClient(ClusterRouter cluster, KvClientOptions options)
    {
        _cluster = cluster;
        _session = null!;
        _cache = null!;
        _reportMilliseconds = options.ReportInterval == Timeout.InfiniteTimeSpan ? long.MaxValue / 2 : (long)options.ReportInterval.TotalMilliseconds;
    }

    /// <summary>The cluster map's epoch this client routes by (0 for a single node).</summary>
    public long ClusterEpoch => _cluster?.Map.Epoch ?? 0;

    static bool Moved(KvException e, int attempt) => e.Status == StoreStatus.WrongSlot && attempt < ClusterRouter.MovedRetries;

    byte[]? ClusterGet(ReadOnlySpan<byte> key, ReaderContext reader)
    {
        for (int attempt = 0; ; attempt++)
        {
            var map = _cluster!.Map;
            var route = _cluster.Route(key);
            try
            {
                var session = route.Session;
                var result = Lookup(key, reader, session, route.Cache);
                // A node retires its regions after it gave a slot away, and a session fetches
                // the map before it uses new regions (RemoteSession.BeforeNewRegions). So when the
                // map changed while this read ran, what it read may be the old owner's copy of a
                // moved key (an old value, or nothing once dropped): read again from the new owner.
                if (!ReferenceEquals(_cluster.Map, map) && _cluster.Route(key) != route) continue;
                return result switch
                {
                    LookupResult.Found => reader.LastValue.ToArray(),
                    LookupResult.NotFound => null,
                    _ => session.FallbackGet(key),
                };
            }
            catch (KvException e) when (Moved(e, attempt))
            {
                _cluster.Redirected(route, attempt);
            }
            catch (KvConnectionException) when (attempt < ClusterRouter.MovedRetries && _cluster.Rerouted(route))
            {
                // The node is down, and another node's map says the key lives elsewhere now.
            }
            catch (KvConnectionException e)
            {
                throw route.Failed(e);
            }
        }
    }

    void ClusterPut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        _cluster!.OnOwner(key, new KeyValue(key, value), static (route, kv) =>
        {
            route.Session.Put(kv.Key, kv.Value);
            return true;
        });

    bool ClusterDelete(ReadOnlySpan<byte> key) =>
        _cluster!.OnOwner(key, new KeyValue(key, default), static (route, kv) => route.Session.Delete(kv.Key));

    /// <summary>One multi-put per owner; a group refused as WrongSlot (none of it applied) is regrouped under the new map.</summary>
    void ClusterPutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs)
    {
        var pending = pairs;
        for (int attempt = 0; pending.Count > 0; attempt++)
        {
            var retry = new List<(byte[] Key, byte[] Value)>();
            var map = _cluster!.Map;
            foreach (var group in pending.GroupBy(p => map.OwnerOf(p.Key).Id).ToList())
            {
                var route = _cluster.RouteTo(map.Node(group.Key)!);
                try
                {
                    route.Session.PutMany([.. group]);
                }
                catch (KvException e) when (Moved(e, attempt))
                {
                    _cluster.Redirected(route, attempt);
                    retry.AddRange(group);
                }
                catch (KvConnectionException) when (attempt < ClusterRouter.MovedRetries && _cluster.Rerouted(route))
                {
                    // The node is down and a newer map names other owners: a failed batch may have
                    // been applied in part, and putting its pairs again is harmless.
                    retry.AddRange(group);
                }
                catch (KvConnectionException e)
                {
                    throw route.Failed(e);
                }
            }
            pending = retry;
        }
    }

    /// <summary>The keys of each owner in parallel (over UCX each batch keeps its READs in flight together).</summary>
    byte[]?[] ClusterMultiGet(IReadOnlyList<byte[]> keys)
    {
        var values = new byte[]?[keys.Count];
        var map = _cluster!.Map;
        var groups = Enumerable.Range(0, keys.Count).GroupBy(i => map.OwnerOf(keys[i]).Id).ToList();
        Parallel.ForEach(groups, group =>
        {
            var route = _cluster!.RouteTo(map.Node(group.Key)!);
            var indexes = group.ToList();
            byte[][] mine = [.. indexes.Select(i => keys[i])];
            byte[]?[] got;
            try
            {
                got = route.Session.MultiGet(mine, route.Cache, ThreadReader, k => ClusterGet(k, ThreadReader));
            }
            catch (KvException e) when (e.Status == StoreStatus.WrongSlot)
            {
                got = [.. mine.Select(k => ClusterGet(k, ThreadReader))];
            }
            catch (KvConnectionException) when (_cluster.Rerouted(route))
            {
                got = [.. mine.Select(k => ClusterGet(k, ThreadReader))];
            }
            catch (KvConnectionException e)
            {
                throw route.Failed(e);
            }
            // As for a single GET: keys whose owner changed meanwhile are read again from it.
            if (!ReferenceEquals(_cluster.Map, map))
                for (int j = 0; j < mine.Length; j++)
                    if (_cluster.Route(mine[j]) != route) got[j] = ClusterGet(mine[j], ThreadReader);
            for (int j = 0; j < indexes.Count; j++) values[indexes[j]] = got[j];
        });
        return values;
    }

    /// <summary>Every node's counters added up; a node that does not answer is left out.</summary>
    IReadOnlyDictionary<string, long> ClusterStats()
    {
        var sum = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in _cluster!.Map.Nodes)
        {
            try
            {
                foreach (var (name, n) in _cluster.RouteTo(node).Call(s => s.Stats())) sum[name] = sum.GetValueOrDefault(name) + n;
            }
            catch (KvConnectionException)
            {
                sum["nodes_unreachable"] = sum.GetValueOrDefault("nodes_unreachable") + 1;
            }
        }
        return sum;
    }
}
