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
        // The grower makes a new generation each time the readers have done ReadsPerGeneration
        // reads since the last one, so the race has the same shape however slow the machine is:
        // readers never starve behind a grower that runs on its own clock. The run ends when both
        // counts are reached; the deadline only bounds a hang.
        const int Generations = 100, ReadsPerGeneration = 10;
        var deadline = TimeSpan.FromMinutes(2);
        var done = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            try
            {
                while (!done.IsSet)
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
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                while (generations < Generations && failures.IsEmpty && clock.Elapsed < deadline)
                {
                    long target = Interlocked.Read(ref reads) + ReadsPerGeneration;
                    while (Interlocked.Read(ref reads) < target && failures.IsEmpty && clock.Elapsed < deadline) Thread.Sleep(1);
                    foreach (var p in node.Node.Partitions)
                    {
                        lock (p.Lock) p.Writer.Grow();
                    }
                    // Writes let the writers free retired regions once their quarantine is over.
                    for (int k = 0; k < 8; k++) node.Node.Put(Encoding.UTF8.GetBytes($"churn{k}"), Encoding.UTF8.GetBytes($"c{generations}"));
                    generations++;
                }
                // Reads of the last generation, still racing the retirement of the one before.
                long last = Interlocked.Read(ref reads) + ReadsPerGeneration;
                while (Interlocked.Read(ref reads) < last && failures.IsEmpty && clock.Elapsed < deadline) Thread.Sleep(1);
            }
            catch (Exception e)
            {
                failures.Enqueue($"grower: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                done.Set();
            }
        });
        foreach (var t in threads) t.Start();
        grower.Start();
        Assert.True(grower.Join(deadline + TimeSpan.FromSeconds(30)), "the grower hung");
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a reader hung");
        Console.WriteLine($"{generations} generations, {reads} reads");
        Assert.Empty(failures);
        Assert.True(generations >= Generations && reads >= Generations * ReadsPerGeneration,
            $"{generations} generations and {reads} reads in {deadline}: the readers or the grower made no progress");
    }
}
