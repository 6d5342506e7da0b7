using System.Diagnostics;
using System.Globalization;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Verification.Bench;

/// <summary>
/// A benchmark, not a test (bench/failover.sh): three nodes with <c>--etcd</c>, R = 2, 2 s leases.
/// <list type="bullet">
/// <item>Failover: writers on a slot the victim leads and on a slot another node leads; SIGKILL of
/// the victim; the time from the kill to the first successful write invoked after it; the errors and
/// the longest operation each writer saw; then a restart and the wait for two copies again.</item>
/// <item>Re-replication: one slot filled with N keys of 1 KiB; its backup killed; the time from the
/// map without that backup to the map with a new one (the controller copies it to the third node).</item>
/// </list>
/// </summary>
static class FailoverBench
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        int kills = 10, slotKeys = 100_000;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--kills") kills = int.Parse(args[i + 1], Inv);
            else if (args[i] == "--slot-keys") slotKeys = int.Parse(args[i + 1], Inv);
        }
        Loopback.Use();
        using var cluster = EtcdCluster.WithMemory("1g", 3, 2, "--durability", "async");
        cluster.WaitUntilServing();
        Console.WriteLine($"3 nodes, R = 2, lease TTL {cluster.LeaseTtl.TotalSeconds} s (margin {cluster.LeaseTtl.TotalMilliseconds / 4} ms), {Environment.ProcessorCount} cores");
        if (kills > 0) Failovers(cluster, kills);
        if (slotKeys > 0) Rereplication(cluster, slotKeys);
        return 0;
    }

    static void Failovers(EtcdCluster cluster, int kills)
    {
        var times = new List<double>();
        for (int k = 0; k < kills; k++)
        {
            var map = cluster.WaitUntilServing();
            string id = map.Owners.GroupBy(o => o).MaxBy(g => g.Count())!.Key; // the node that leads the most slots
            int victim = int.Parse(id.AsSpan(4), Inv) - 1;
            int led = Enumerable.Range(0, map.SlotCount).First(s => map.Owners[s] == id);
            // Another node's slot, one the victim does not back if there is one.
            // (After failovers without a rebalance one node may lead every slot: then there is none.)
            int other = Enumerable.Range(0, map.SlotCount).Where(s => map.Owners[s] != id).OrderBy(s => map.Holds(s, id)).DefaultIfEmpty(-1).First();
            using var onVictim = new Writer(cluster, KeysOf(led, map.SlotCount, 4, "fo"));
            using var elsewhere = other < 0 ? null : new Writer(cluster, KeysOf(other, map.SlotCount, 4, "fe"));
            onVictim.WaitForSuccess();
            elsewhere?.WaitForSuccess();
            cluster.Kill(victim);
            long killed = Stopwatch.GetTimestamp();
            double first = onVictim.FirstSuccessInvokedAfter(killed, TimeSpan.FromSeconds(60));
            onVictim.Stop();
            elsewhere?.Stop();
            times.Add(first);
            Console.WriteLine($"kill {k + 1} ({id}, slot {led}): first write {first:F0} ms after SIGKILL; its writer: {onVictim.Describe()}; {(elsewhere is null ? "it led every slot" : $"writer on slot {other} ({map.Owners[other]}{(map.Holds(other, id) ? $", backed by {id}" : "")}): {elsewhere.Describe()}")}");
            cluster.Restart(victim);
            var restored = Stopwatch.StartNew();
            cluster.WaitForMap(m => m.SlotsShortOfCopies == 0, "two copies of every slot");
            cluster.WaitUntilServing();
            Console.WriteLine($"  restarted; two copies of every slot and every node serving {restored.ElapsedMilliseconds} ms after the restart");
        }
        times.Sort();
        Console.WriteLine($"failover (SIGKILL to first successful write on a slot it led), {times.Count} kills: p50 {times[times.Count / 2]:F0} ms, max {times[^1]:F0} ms, min {times[0]:F0} ms");
    }

    static void Rereplication(EtcdCluster cluster, int slotKeys)
    {
        var map = cluster.WaitUntilServing();
        int slot = 0;
        var keys = KeysOf(slot, map.SlotCount, slotKeys, "rr");
        var value = new byte[1024];
        Random.Shared.NextBytes(value);
        var fill = Stopwatch.StartNew();
        Parallel.ForEach(Partitioner(keys.Count, 8), new ParallelOptions { MaxDegreeOfParallelism = 8 }, range =>
        {
            using var client = cluster.Connect(cluster.Seeds(0, 1, 2), TimeSpan.FromSeconds(10));
            for (int i = range.From; i < range.To; i++) client.Put(keys[i], value);
        });
        Console.WriteLine($"filled slot {slot} with {keys.Count} keys of 1 KiB in {fill.Elapsed.TotalSeconds:F1} s");
        map = cluster.WaitUntilServing();
        string backup = map.BackupsOf(slot)[0];
        int index = int.Parse(backup.AsSpan(4), Inv) - 1;
        cluster.Kill(index);
        var killed = Stopwatch.StartNew();
        cluster.WaitForMap(m => !m.Holds(slot, backup), $"slot {slot} without {backup}", TimeSpan.FromSeconds(60));
        double dropped = killed.Elapsed.TotalMilliseconds;
        var copy = cluster.WaitForMap(m => m.BackupsOf(slot).Count == 1, $"a new backup of slot {slot}", TimeSpan.FromSeconds(600));
        double restored = killed.Elapsed.TotalMilliseconds;
        Console.WriteLine($"re-replication of slot {slot} ({keys.Count} keys of 1 KiB) onto {copy.BackupsOf(slot)[0]}: the map dropped {backup} {dropped:F0} ms after SIGKILL; the new copy was in the map {restored - dropped:F0} ms later");
        cluster.Restart(index);
    }

    static IEnumerable<(int From, int To)> Partitioner(int count, int parts)
    {
        for (int p = 0; p < parts; p++) yield return (count * p / parts, count * (p + 1) / parts);
    }

    static List<byte[]> KeysOf(int slot, int slots, int count, string prefix)
    {
        var keys = new List<byte[]>(count);
        for (long n = 0; keys.Count < count; n++)
        {
            var key = Encoding.UTF8.GetBytes($"{prefix}-{n}");
            if (ClusterMap.SlotOf(key, slots) == slot) keys.Add(key);
        }
        return keys;
    }

    /// <summary>One thread writing its keys in turn through its own client, timing every call.</summary>
    sealed class Writer : IDisposable
    {
        readonly List<(long Invoke, long Complete, string? Error)> _calls = [];
        readonly Thread _thread;
        volatile bool _stop;

        public Writer(EtcdCluster cluster, List<byte[]> keys)
        {
            _thread = new Thread(() =>
            {
                using var client = cluster.Connect(cluster.Seeds(0, 1, 2));
                var value = new byte[100];
                for (long n = 0; !_stop; n++)
                {
                    long start = Stopwatch.GetTimestamp();
                    string? error = null;
                    try
                    {
                        client.Put(keys[(int)(n % keys.Count)], value);
                    }
                    catch (Exception e) when (e is KvException or KvConnectionException)
                    {
                        error = e is KvException kv ? $"KvException({kv.Status})" : e.GetType().Name;
                    }
                    lock (_calls) _calls.Add((start, Stopwatch.GetTimestamp(), error));
                    if (error is not null) Thread.Sleep(1);
                }
            })
            { IsBackground = true };
            _thread.Start();
        }

        public void WaitForSuccess()
        {
            if (!SpinWait.SpinUntil(() => { lock (_calls) return _calls.Any(c => c.Error is null); }, TimeSpan.FromSeconds(60)))
                throw new TimeoutException("a writer made no write within 60 s");
        }

        public double FirstSuccessInvokedAfter(long timestamp, TimeSpan patience)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < patience)
            {
                lock (_calls)
                    foreach (var c in _calls)
                        if (c.Invoke >= timestamp && c.Error is null) return (c.Complete - timestamp) * 1000.0 / Stopwatch.Frequency;
                Thread.Sleep(5);
            }
            throw new TimeoutException($"no write succeeded within {patience} of the kill");
        }

        public string Describe()
        {
            lock (_calls)
            {
                var errors = _calls.Where(c => c.Error is not null).GroupBy(c => c.Error).Select(g => $"{g.Count()} x {g.Key}");
                double longest = _calls.Max(c => c.Complete - c.Invoke) * 1000.0 / Stopwatch.Frequency;
                return $"{_calls.Count} writes, errors: {string.Join(", ", errors.DefaultIfEmpty("none"))}, longest call {longest:F0} ms";
            }
        }

        public void Stop()
        {
            _stop = true;
            _thread.Join();
        }

        public void Dispose() => Stop();
    }
}
