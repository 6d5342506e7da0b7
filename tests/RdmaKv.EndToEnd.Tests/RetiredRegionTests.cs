using System.Collections.Concurrent;
using System.Text;
using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Threads of one UCX client share its connection: while one refreshes to a new region
/// generation, another's READ of the old one may still be on its way. The node must keep the old
/// generation registered and mapped meanwhile (UCX's tcp emulation copies from whatever address a
/// READ names: a deregistered, unmapped region crashed the node).
/// </summary>
public sealed class RetiredRegionTests
{
    [Fact]
    public void ReadsOfOneClientFromManyThreadsSurviveAStormOfNewGenerations()
    {
        using var node = new TestNode(o => o with { Partitions = 2 });
        using var client = node.ConnectRemote(new KvClientOptions());
        const int Keys = 64;
        for (int k = 0; k < Keys; k++) client.Put(Encoding.UTF8.GetBytes($"k{k}"), Encoding.UTF8.GetBytes($"v{k}"));
        var failures = new ConcurrentQueue<string>();
        long reads = 0, generations = 0;
        // At least 3 s, then until the race had 1,000 reads and 100 generations (a loaded machine
        // is slower), at most 20 s.
        long start = Environment.TickCount64;
        bool Going() => Environment.TickCount64 - start < 3_000
            || (Environment.TickCount64 - start < 20_000 && (Interlocked.Read(ref reads) < 1_000 || Interlocked.Read(ref generations) < 100));
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            try
            {
                while (Going() && reads < 10_000_000)
                {
                    int k = random.Next(Keys);
                    byte[]? value = client.Get(Encoding.UTF8.GetBytes($"k{k}"));
                    if (value is null || Encoding.UTF8.GetString(value) != $"v{k}") failures.Enqueue($"k{k} read {(value is null ? "nothing" : Encoding.UTF8.GetString(value))}");
                    Interlocked.Increment(ref reads);
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"{e.GetType().Name}: {e.Message}");
            }
        })).ToList();
        var grower = new Thread(() =>
        {
            while (Going() && generations < 100_000)
            {
                foreach (var p in node.Node.Partitions)
                {
                    lock (p.Lock) p.Writer.Grow();
                }
                // Writes let the writers free retired regions once their quarantine is over.
                for (int k = 0; k < 8; k++) node.Node.Put(Encoding.UTF8.GetBytes($"churn{k}"), Encoding.UTF8.GetBytes($"c{generations}"));
                generations++;
                Thread.Sleep(3);
            }
        });
        foreach (var t in threads) t.Start();
        grower.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a reader hung");
        Assert.True(grower.Join(TimeSpan.FromSeconds(60)), "the grower hung");
        Console.WriteLine($"{generations} generations, {reads} reads");
        Assert.Empty(failures);
        Assert.True(generations >= 100 && reads >= 1_000, $"{generations} generations, {reads} reads in 20 s: not enough of a race");
    }
}
