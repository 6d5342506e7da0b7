using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace RdmaKv.Extensions.Tests;

/// <summary>
/// HybridCache with RdmaKv as its second level: two app instances (two containers, each with its
/// own HybridCache and memory level) on one node.
/// </summary>
public sealed class HybridCacheTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    readonly string _instance = NodeFixture.UniqueInstance();

    ServiceProvider App() => new ServiceCollection()
        .AddRdmaKv(o => o.Connect = node.Uri)
        .AddRdmaKvDistributedCache(o => o.InstanceName = _instance)
        .AddHybridCache().Services
        .BuildServiceProvider();

    /// <summary>A factory that counts its runs and takes long enough for every caller to pile up behind it.</summary>
    sealed class Factory(string value)
    {
        int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public async ValueTask<string> Make(CancellationToken cancel)
        {
            Interlocked.Increment(ref _runs);
            await Task.Delay(200, cancel);
            return value;
        }
    }

    static async Task<string[]> Stampede(HybridCache cache, string key, Factory factory, HybridCacheEntryOptions? options = null) =>
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () => await cache.GetOrCreateAsync(key, factory.Make, options))));

    [Fact]
    public async Task AStampedeRunsTheFactoryOnceAndTheSecondInstanceReadsTheSecondLevel()
    {
        using var first = App();
        using var second = App();
        var made = new Factory("made by the first");
        var notMade = new Factory("made by the second");

        string[] seenByFirst = await Stampede(first.GetRequiredService<HybridCache>(), "report", made);
        Assert.Equal(1, made.Runs);
        Assert.All(seenByFirst, v => Assert.Equal("made by the first", v));
        // HybridCache hands the value out before its write to the second level completes.
        Eventually.Until(() => Stored.Present(node.Raw, _instance, "report"), "the write of the value to RdmaKv");

        string[] seenBySecond = await Stampede(second.GetRequiredService<HybridCache>(), "report", notMade);
        Assert.Equal(0, notMade.Runs);
        Assert.All(seenBySecond, v => Assert.Equal("made by the first", v));
    }

    [Fact]
    public async Task AnEntryGoesFromTheSecondLevelWhenItExpires()
    {
        using var first = App();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMilliseconds(1500), LocalCacheExpiration = TimeSpan.FromMilliseconds(1500) };
        var made = new Factory("short-lived");
        await first.GetRequiredService<HybridCache>().GetOrCreateAsync("k", made.Make, options);
        Assert.Equal(1, made.Runs);
        Eventually.Until(() => Stored.Present(node.Raw, _instance, "k"), "the write of the value to RdmaKv");

        using (var second = App())
        {
            var fromSecondLevel = new Factory("not expected");
            Assert.Equal("short-lived", await second.GetRequiredService<HybridCache>().GetOrCreateAsync("k", fromSecondLevel.Make, options));
            Assert.Equal(0, fromSecondLevel.Runs);
        }

        Eventually.Until(() => !Stored.Present(node.Raw, _instance, "k"), "the expiry of the entry in RdmaKv");
        using var third = App();
        var again = new Factory("made again");
        Assert.Equal("made again", await third.GetRequiredService<HybridCache>().GetOrCreateAsync("k", again.Make, options));
        Assert.Equal(1, again.Runs);
    }
}
