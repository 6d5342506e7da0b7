using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Three nodes in this process, each leading slots that the others back (a static map, two
/// copies), written at once by clients of all three: each node's writes wait on the others'
/// replies while theirs wait on its own. No write may wait for another node's write to end,
/// on a thread or on a lock: a cycle would hold both until the replication timeout, here a
/// minute, so every write must succeed within the clients' 10 s.
/// </summary>
public sealed class CrossReplicationTests(ITestOutputHelper output) : IDisposable
{
    readonly InProcessCluster _cluster = new(replicas: 2, replicationTimeout: TimeSpan.FromMinutes(1));

    [Fact]
    public void ConcurrentWritesToNodesThatBackEachOtherAllSucceed()
    {
        var failures = new ConcurrentQueue<string>();
        var latencies = new ConcurrentBag<long>();
        var writers = Enumerable.Range(0, 3).Select(t => new Thread(() =>
        {
            using var client = KvClient.Connect(_cluster.Seeds(t), new KvClientOptions { Credential = _cluster.Token, Timeout = TimeSpan.FromSeconds(10) });
            for (int i = 0; i < 300 && failures.IsEmpty; i++)
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    client.Put(Encoding.UTF8.GetBytes($"cross-{t}-{i}"), Encoding.UTF8.GetBytes($"v{i}"));
                    latencies.Add(clock.ElapsedTicks);
                }
                catch (Exception e) when (e is KvException or KvConnectionException or TimeoutException)
                {
                    failures.Enqueue($"writer {t}, put {i}, after {clock.ElapsedMilliseconds} ms: {e.GetType().Name}: {e.Message}");
                }
            }
        })).ToList();
        var total = Stopwatch.StartNew();
        writers.ForEach(w => w.Start());
        writers.ForEach(w => w.Join());
        var sorted = latencies.Order().Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        if (sorted.Length > 0)
            output.WriteLine($"{sorted.Length} writes in {total.ElapsedMilliseconds} ms; p50 {sorted[sorted.Length / 2]:F1} ms, max {sorted[^1]:F1} ms");
        Assert.True(failures.IsEmpty, $"a write failed:\n{string.Join("\n", failures)}");
        Assert.Equal(900, sorted.Length);
    }

    public void Dispose() => _cluster.Dispose();
}
