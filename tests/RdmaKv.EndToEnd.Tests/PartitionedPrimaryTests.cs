using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using RdmaKv.Core.Cluster;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A primary cut off from etcd and its backups while clients on both sides write
/// (<see cref="NetnsEtcdCluster"/>: node1 in a network namespace, three nodes, two copies of every
/// slot, 2 s leases with a 500 ms margin). The isolated side acknowledges nothing after its lease
/// margin (it cannot reach its backups, so nothing at all); after the failover no read through
/// the isolated node returns a value older than what the other side wrote; when the link returns
/// the node serves again and every node routes to the new values. Runs alone with the link cut
/// test: both widen this process's UCX_NET_DEVICES to a veth.
/// </summary>
[Collection(nameof(LinkCutTests))]
public sealed class PartitionedPrimaryTests(ITestOutputHelper output)
{
    sealed record Attempt(string Key, string Value, long StartMs, long EndMs, CliResult Result);

    [Fact]
    public void APrimaryCutOffAcknowledgesNothingAfterItsLeaseReadsNoOlderValueAfterTheFailoverAndRejoinsWhenTheLinkReturns()
    {
        using var cluster = new NetnsEtcdCluster();
        cluster.WaitUntil(() => Enumerable.Range(0, 3).All(i => cluster.View(i)?.Serving == true), "every node serves");
        var before = cluster.Newest(0, 1, 2)!;
        string[] keys = KeysLedBy(before.Owners, "node1", 3);
        int[] slots = [.. keys.Select(k => ClusterMap.SlotOf(Encoding.UTF8.GetBytes(k), before.Owners.Length))];

        using (var host = cluster.Connect(cluster.Seeds(1, 2)))
        {
            foreach (string key in keys) host.Put(key, "v1-" + key);
            foreach (string key in keys) Assert.Equal("v1-" + key, Text(host.Get(key)));
        }
        var inside = cluster.CliInNamespace("get", keys[0]);
        Assert.True(inside.ExitCode == 0 && inside.Text == "v1-" + keys[0], $"the namespace's client did not read v1 through node1 before the cut: {inside}");

        // Clients in the namespace that connected before the cut put right after it, inside node1's
        // lease window (a CLI run takes seconds to start); fresh runs keep putting until the failover.
        var attempts = new ConcurrentQueue<Attempt>();
        int[] releaseAfterMs = [0, 300, 600, 900, 1200, 1500, 2000];
        int connected = cluster.ConnectionsFromNamespace();
        var early = releaseAfterMs.Select(_ => cluster.StartInNamespace("put", keys[0])).ToList();
        var clock = Stopwatch.StartNew();
        long cutMs, leaseEndMs, failedOverMs;
        bool stop = false;
        var writers = new List<Thread>();
        try
        {
            cluster.WaitUntil(() => cluster.ConnectionsFromNamespace() >= connected + early.Count, "the namespace's clients connected to node1");
            cluster.Cut();
            cutMs = clock.ElapsedMilliseconds;
            leaseEndMs = cutMs + (long)(cluster.LeaseTtl - cluster.LeaseMargin).TotalMilliseconds;
            int next = 0;
            writers.AddRange(early.Select((cli, i) => new Thread(() =>
            {
                while (clock.ElapsedMilliseconds < cutMs + releaseAfterMs[i]) Thread.Sleep(5);
                string value = $"isolated-early-{i}";
                long start = clock.ElapsedMilliseconds;
                var result = cli.Finish(value);
                attempts.Enqueue(new Attempt(keys[0], value, start, clock.ElapsedMilliseconds, result));
            })));
            writers.AddRange(Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    int n = Interlocked.Increment(ref next);
                    string key = keys[n % keys.Length], value = $"isolated-{n}";
                    long start = clock.ElapsedMilliseconds;
                    var result = cluster.CliInNamespace("put", key, value);
                    attempts.Enqueue(new Attempt(key, value, start, clock.ElapsedMilliseconds, result));
                }
            })));
            writers.ForEach(w => w.Start());
            cluster.WaitUntil(() => cluster.Newest(1, 2) is { } m && slots.All(s => m.Owners[s] != "node1"), "node1's slots failed over to their backups");
            failedOverMs = clock.ElapsedMilliseconds;
            // The isolated side has tried past its lease: at least one attempt started after it.
            long lease = leaseEndMs;
            cluster.WaitUntil(() => attempts.Any(a => a.StartMs >= lease), "a write tried on node1 after its lease");
        }
        finally
        {
            Volatile.Write(ref stop, true);
            writers.ForEach(w => w.Join());
            early.ForEach(c => c.Dispose());
        }

        using (var host = cluster.Connect(cluster.Seeds(1, 2)))
            foreach (string key in keys) host.Put(key, "v2-" + key);
        long v2Ms = clock.ElapsedMilliseconds;
        var reads = keys.Select(k => (Key: k, Result: cluster.CliInNamespace("get", k))).ToList();

        output.WriteLine($"cut at {cutMs} ms, lease end {leaseEndMs} ms, node1's slots failed over at {failedOverMs} ms, v2 written by {v2Ms} ms");
        foreach (var a in attempts.OrderBy(a => a.StartMs))
            output.WriteLine($"  isolated put {a.Key}={a.Value} {a.StartMs}-{a.EndMs} ms: exit {a.Result.ExitCode} {FirstLine(a.Result.Stderr)}");
        foreach (var (key, result) in reads)
            output.WriteLine($"  isolated get {key}: exit {result.ExitCode} \"{result.Text}\" {FirstLine(result.Stderr)}");

        var acknowledged = attempts.Where(a => a.Result.ExitCode == 0).ToList();
        var afterLease = acknowledged.Where(a => a.StartMs >= leaseEndMs).ToList();
        Assert.True(afterLease.Count == 0,
            $"node1 acknowledged writes begun after its lease margin ({leaseEndMs} ms): {string.Join("; ", afterLease.Select(a => $"{a.Key}={a.Value} at {a.StartMs}-{a.EndMs} ms"))}\n{cluster.Describe()}");
        Assert.True(acknowledged.Count == 0,
            $"node1 acknowledged writes while its backups were unreachable: {string.Join("; ", acknowledged.Select(a => $"{a.Key}={a.Value} at {a.StartMs}-{a.EndMs} ms"))}\n{cluster.Describe()}");
        var stale = reads.Where(r => r.Result.ExitCode == 0 && r.Result.Text != "v2-" + r.Key).ToList();
        Assert.True(stale.Count == 0,
            $"reads through the isolated node after the failover returned older values: {string.Join("; ", stale.Select(r => $"{r.Key}=\"{r.Result.Text}\""))}\n{cluster.Describe()}");
        Assert.True(attempts.Count > 0, "no write was tried on the isolated side");

        cluster.Heal();
        long healedMs = clock.ElapsedMilliseconds;
        cluster.WaitUntil(() => cluster.View(0) is { Serving: true } own && own.SeesLive("node1") && cluster.Newest(1, 2) is { } m && m.SeesLive("node1"),
            "node1 serves again and is a member");
        output.WriteLine($"healed at {healedMs} ms, node1 serves again at {clock.ElapsedMilliseconds} ms");

        for (int seed = 0; seed < 3; seed++)
        {
            using var client = cluster.Connect(cluster.Seeds(seed));
            foreach (string key in keys)
                Assert.True(Text(client.Get(key)) == "v2-" + key, $"through node{seed + 1} {key} reads \"{Text(client.Get(key))}\", not v2\n{cluster.Describe()}");
        }
        var after = cluster.CliInNamespace("get", keys[0]);
        Assert.True(after.ExitCode == 0 && after.Text == "v2-" + keys[0], $"the namespace's client through node1 after the link returned: {after}");
    }

    static string[] KeysLedBy(string[] owners, string node, int count) =>
        [.. Enumerable.Range(0, 10_000).Select(i => $"partitioned-{i}")
            .Where(k => owners[ClusterMap.SlotOf(Encoding.UTF8.GetBytes(k), owners.Length)] == node).Take(count)];

    static string? Text(byte[]? value) => value is null ? null : Encoding.UTF8.GetString(value);

    static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
