using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Writers for the failover tests: each thread owns its keys and writes increasing sequence
/// numbers, so what a key may hold afterwards is known exactly (its last acknowledged sequence, or a
/// later one whose write failed with an unknown outcome). Errors are counted by whether the key's
/// slot involves a given node.
/// </summary>
sealed class FailoverLoad : IDisposable
{
    readonly EtcdCluster _cluster;
    readonly List<Racer> _writers = [];
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<string, (long Acked, long Tried)> _keys = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<(long At, string Key)> _acks = new();
    public ConcurrentBag<(string Key, string Error)> Errors { get; } = [];

    public FailoverLoad(EtcdCluster cluster, int threads = 3, int keysPerThread = 40)
    {
        _cluster = cluster;
        for (int t = 0; t < threads; t++)
        {
            int thread = t;
            _writers.Add(Racer.Start($"failover writer {t}", () => Write(thread, keysPerThread)));
        }
    }

    void Write(int thread, int keys)
    {
        var client = _cluster.Connect(_cluster.AllSeeds, TimeSpan.FromSeconds(5)); // a live node that stalls 2 s on a loaded 2-core machine is not a failed write
        try
        {
            for (long seq = 1; !_stop.IsCancellationRequested && seq < 1_000_000; seq++)
            {
                string key = $"fo-{thread}-{seq % keys}";
                _keys[key] = (_keys.TryGetValue(key, out var s) ? s.Acked : 0, seq);
                try
                {
                    client.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(seq.ToString(CultureInfo.InvariantCulture)));
                    _keys[key] = (seq, seq);
                    _acks.Enqueue((Stopwatch.GetTimestamp(), key));
                }
                catch (Exception e) when (e is KvException or KvConnectionException)
                {
                    Errors.Add((key, e.Message));
                    Thread.Sleep(5);
                }
            }
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> writes were acknowledged after <paramref name="since"/> (a Stopwatch timestamp) for keys matching <paramref name="which"/>; the first one's time.</summary>
    public long WaitForAcks(long since, Func<string, bool> which, int count, TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var after = _acks.Where(a => a.At > since && which(a.Key)).Select(a => a.At).Order().ToList();
            if (after.Count >= count) return after[0];
            if (deadline.Elapsed > patience) throw new TimeoutException($"{after.Count} of {count} acknowledged writes within {patience}\n{_cluster.Describe()}");
            Thread.Sleep(20);
        }
    }

    public void Stop()
    {
        _stop.Cancel();
        foreach (var w in _writers) w.Join(TimeSpan.FromMinutes(1));
    }

    /// <summary>Reads every key back: each must hold its last acknowledged sequence or a later one that was tried; returns the violations.</summary>
    public List<string> Check(KvClient reader)
    {
        var wrong = new List<string>();
        foreach (var (key, (acked, tried)) in _keys)
        {
            byte[]? value = reader.Get(Encoding.UTF8.GetBytes(key));
            long held = value is null ? 0 : long.Parse(Encoding.UTF8.GetString(value), CultureInfo.InvariantCulture);
            if (held < acked || held > tried) wrong.Add($"{key}: holds {held}, acknowledged {acked}, last tried {tried}");
        }
        return wrong;
    }

    public static bool Involves(ClusterMap map, string key, string node) => map.Holds(map.SlotOf(Encoding.UTF8.GetBytes(key)), node);

    public static bool LedBy(ClusterMap map, string key, string node) => map.Owners[map.SlotOf(Encoding.UTF8.GetBytes(key))] == node;

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var w in _writers)
        {
            try
            {
                w.Join(TimeSpan.FromMinutes(1));
            }
            catch (Exception)
            {
                // the test reports its own failure; a writer's is secondary
            }
        }
        _stop.Dispose();
    }
}
