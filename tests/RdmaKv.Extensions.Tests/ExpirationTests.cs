using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;

namespace RdmaKv.Extensions.Tests;

/// <summary>
/// Absolute, relative and sliding expiration. The first tests run on the real clock against the
/// node's own expiry (short expiries, polled for, never slept through); the rest move the cache's
/// clock by hand and check the arithmetic exactly, to the millisecond.
/// </summary>
public sealed class ExpirationTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    readonly string _instance = NodeFixture.UniqueInstance();
    static readonly TimeSpan s_short = TimeSpan.FromMilliseconds(500);

    RdmaKvCache Cache(TimeProvider? clock = null) => new(node.Raw, new RdmaKvCacheOptions { InstanceName = _instance }, clock);

    bool InStore(string key) => Stored.Present(node.Raw, _instance, key);

    [Fact]
    public void AbsoluteExpirationRemovesTheEntryWhenItPasses()
    {
        var cache = Cache();
        var watch = Stopwatch.StartNew();
        cache.Set("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow + s_short });
        AssertLivesThenGoes(cache, "k", watch, s_short);
    }

    [Fact]
    public async Task RelativeExpirationRemovesTheEntryWhenItPasses()
    {
        var cache = Cache();
        var watch = Stopwatch.StartNew();
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = s_short });
        AssertLivesThenGoes(cache, "k", watch, s_short);
    }

    [Fact]
    public void SlidingEntryNotReadWithinItsWindowIsGone()
    {
        var cache = Cache();
        var watch = Stopwatch.StartNew();
        cache.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = s_short });
        // Polled with the raw client: a read through the cache would slide the entry along.
        AssertLivesThenGoes(cache, "k", watch, s_short);
    }

    [Fact]
    public void SlidingEntryReadWithinItsWindowStays()
    {
        var cache = Cache();
        var window = TimeSpan.FromMilliseconds(1500);
        // Reads 100 ms apart keep the entry for more than two windows. A read that comes later than
        // the window (this machine stalled) proves nothing: the entry is put again and the run restarts.
        var options = new DistributedCacheEntryOptions { SlidingExpiration = window };
        cache.Set("k", [1], options);
        var run = Stopwatch.StartNew();
        var sinceRead = Stopwatch.StartNew();
        var limit = Stopwatch.StartNew();
        while (run.Elapsed < 2.2 * window)
        {
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(30), "the machine stalled longer than the window again and again");
            Thread.Sleep(100);
            var gap = sinceRead.Elapsed;
            byte[]? value = cache.Get("k");
            sinceRead.Restart();
            if (gap < window - TimeSpan.FromMilliseconds(300))
                Assert.True(value is [1], $"a sliding entry read {gap.TotalMilliseconds:F0} ms after its last read, within its {window.TotalMilliseconds} ms window, was gone {run.ElapsedMilliseconds} ms into the run");
            else if (value is null)
            {
                cache.Set("k", [1], options);
                run.Restart();
            }
        }
        // Unread from now on, it goes one window after the last read.
        var lastRead = Stopwatch.StartNew();
        Eventually.Until(() => !InStore("k"), "the expiry of the sliding entry after its reads stopped");
        Assert.True(lastRead.Elapsed >= window - TimeSpan.FromMilliseconds(100), $"gone {lastRead.ElapsedMilliseconds} ms after the last read; its window is {window.TotalMilliseconds} ms");
    }

    [Fact]
    public void AbsoluteExpirationCapsSlidingOnTheRealClock()
    {
        var cache = Cache();
        var watch = Stopwatch.StartNew();
        cache.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(1), AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(1500) });
        // Read every 50 ms (each read slides it along): it still goes at its absolute expiry.
        Eventually.Until(() =>
        {
            Thread.Sleep(50);
            return cache.Get("k") is null;
        }, "the absolute expiry of an entry read all the time");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(1490), $"gone after {watch.ElapsedMilliseconds} ms; its absolute expiry was 1,500 ms");
        Assert.False(InStore("k"));
    }

    /// <summary>Present while early enough to tell; then gone from the store (polled), not before <paramref name="expiry"/>.</summary>
    void AssertLivesThenGoes(RdmaKvCache cache, string key, Stopwatch sinceSet, TimeSpan expiry)
    {
        if (sinceSet.Elapsed < expiry / 2) Assert.True(InStore(key), $"the entry was gone {sinceSet.ElapsedMilliseconds} ms after it was set");
        Eventually.Until(() => !InStore(key), "the entry's expiry");
        Assert.True(sinceSet.Elapsed >= expiry - TimeSpan.FromMilliseconds(5), $"the entry was gone {sinceSet.ElapsedMilliseconds} ms after it was set; it expires after {expiry.TotalMilliseconds} ms");
        Assert.Null(cache.Get(key));
    }

    [Fact]
    public void SlidingWindowIsExactByTheCachesClock()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        var window = TimeSpan.FromMinutes(10);
        cache.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = window });
        clock.Advance(window - TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], cache.Get("k"));
        Assert.Equal((clock.GetUtcNow() + window).ToUnixTimeMilliseconds(), Stored.Read(node.Raw, _instance, "k")!.Value.StoreExpiryMs);
        clock.Advance(window - TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], cache.Get("k"));
        clock.Advance(window);
        Assert.Null(cache.Get("k"));
    }

    [Fact]
    public async Task RefreshSlidesTheEntryWithoutReadingIt()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        var window = TimeSpan.FromMinutes(10);
        cache.Set("sync", [1], new DistributedCacheEntryOptions { SlidingExpiration = window });
        await cache.SetAsync("async", [2], new DistributedCacheEntryOptions { SlidingExpiration = window });
        clock.Advance(TimeSpan.FromMinutes(9));
        cache.Refresh("sync");
        await cache.RefreshAsync("async");
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal([1], cache.Get("sync"));
        Assert.Equal([2], await cache.GetAsync("async"));
        clock.Advance(window);
        Assert.Null(cache.Get("sync"));
        Assert.Null(await cache.GetAsync("async"));
    }

    [Fact]
    public void AbsoluteExpirationIsExactByTheCachesClock()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        cache.Set("relative", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        cache.Set("absolute", [2], new DistributedCacheEntryOptions { AbsoluteExpiration = clock.GetUtcNow().AddMinutes(10) });
        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], cache.Get("relative"));
        Assert.Equal([2], cache.Get("absolute"));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(cache.Get("relative"));
        Assert.Null(cache.Get("absolute"));
    }

    [Fact]
    public async Task AbsoluteExpirationCapsSlidingByTheCachesClock()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        var start = clock.GetUtcNow();
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10), AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(15) });
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal([1], await cache.GetAsync("k"));
        Assert.Equal((start + TimeSpan.FromMinutes(15)).ToUnixTimeMilliseconds(), Stored.Read(node.Raw, _instance, "k")!.Value.StoreExpiryMs);
        clock.Advance(TimeSpan.FromMinutes(6) - TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], await cache.GetAsync("k"));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await cache.GetAsync("k"));
    }

    [Fact]
    public void ReadsCloseTogetherWriteOnce()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        var window = TimeSpan.FromMinutes(10);
        cache.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = window });
        long written = Stored.Read(node.Raw, _instance, "k")!.Value.StoreExpiryMs;
        // Within the slack (a twentieth of the window, at most 1 s) a read does not put the entry again.
        clock.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.Equal([1], cache.Get("k"));
        Assert.Equal(written, Stored.Read(node.Raw, _instance, "k")!.Value.StoreExpiryMs);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([1], cache.Get("k"));
        Assert.Equal(written + 1001, Stored.Read(node.Raw, _instance, "k")!.Value.StoreExpiryMs);
    }
}
