using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace RdmaKv.Extensions.Tests;

/// <summary>IDistributedCache as its documentation describes it, against a real node: sync and async.</summary>
public sealed class DistributedCacheTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    readonly string _instance = NodeFixture.UniqueInstance();

    RdmaKvCache Cache(string? instance = null) => new(node.Raw, new RdmaKvCacheOptions { InstanceName = instance ?? _instance });

    static readonly DistributedCacheEntryOptions s_forever = new();

    [Fact]
    public void SetThenGetReturnsTheSameBytes()
    {
        var cache = Cache();
        byte[] value = Encoding.UTF8.GetBytes("a value");
        cache.Set("k", value, s_forever);
        Assert.Equal(value, cache.Get("k"));
        cache.Set("empty", [], s_forever);
        Assert.Equal(Array.Empty<byte>(), cache.Get("empty"));
    }

    [Fact]
    public void GetOfAMissingKeyReturnsNull() => Assert.Null(Cache().Get("never-set"));

    [Fact]
    public void SetReplacesTheValue()
    {
        var cache = Cache();
        cache.Set("k", [1], s_forever);
        cache.Set("k", [2, 2], s_forever);
        Assert.Equal([2, 2], cache.Get("k"));
    }

    [Fact]
    public void RemoveMakesTheKeyAbsent()
    {
        var cache = Cache();
        cache.Set("k", [1, 2, 3], s_forever);
        cache.Remove("k");
        Assert.Null(cache.Get("k"));
        Assert.False(Stored.Present(node.Raw, _instance, "k"));
        cache.Remove("k"); // removing what is not there is no error
    }

    [Fact]
    public void RefreshOfAnEntryWithoutSlidingLeavesItAsItIs()
    {
        var cache = Cache();
        cache.Set("k", [7], s_forever);
        var before = Stored.Read(node.Raw, _instance, "k");
        cache.Refresh("k");
        cache.Refresh("missing");
        Assert.Equal(before?.StoreExpiryMs, Stored.Read(node.Raw, _instance, "k")?.StoreExpiryMs);
        Assert.Equal([7], cache.Get("k"));
    }

    [Fact]
    public void InstanceNamePrefixesEveryStoreKey()
    {
        string other = NodeFixture.UniqueInstance();
        Cache().Set("k", [1], s_forever);
        Cache(other).Set("k", [2], s_forever);
        Assert.Equal([1], Cache().Get("k"));
        Assert.Equal([2], Cache(other).Get("k"));
        Assert.Equal([1], Stored.Read(node.Raw, _instance, "k")?.Value);
        Assert.Null(node.Raw.Get("k"));
    }

    [Fact]
    public void StoredEntryHasTheDocumentedHeader()
    {
        var clock = new ManualClock();
        var cache = new RdmaKvCache(node.Raw, new RdmaKvCacheOptions { InstanceName = _instance }, clock);
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        cache.Set("k", [9, 8], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(30), SlidingExpiration = TimeSpan.FromMinutes(10) });
        var stored = Stored.Read(node.Raw, _instance, "k")!.Value;
        Assert.Equal(1, stored.Version);
        Assert.Equal(now + 30 * 60_000, stored.AbsoluteMs);
        Assert.Equal(10 * 60_000, stored.SlidingMs);
        Assert.Equal(now + 10 * 60_000, stored.StoreExpiryMs);
        Assert.Equal([9, 8], stored.Value);
    }

    [Fact]
    public void AValueTheCacheDidNotWriteReadsAsAbsent()
    {
        node.Raw.Put(Encoding.UTF8.GetBytes(_instance + "raw"), "not a cache entry"u8);
        Assert.Null(Cache().Get("raw"));
    }

    [Fact]
    public async Task AsyncCallsSetGetRefreshAndRemove()
    {
        var cache = Cache();
        await cache.SetAsync("k", [4, 5], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        Assert.Equal([4, 5], await cache.GetAsync("k"));
        await cache.RefreshAsync("k");
        Assert.Equal([4, 5], await cache.GetAsync("k"));
        await cache.RemoveAsync("k");
        Assert.Null(await cache.GetAsync("k"));
        Assert.Null(await cache.GetAsync("missing"));
    }

    [Fact]
    public async Task AsyncCallsHonourCancellation()
    {
        var cache = Cache();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.GetAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.SetAsync("k", [1], s_forever, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.RemoveAsync("k", cancelled.Token));
    }

    [Fact]
    public void AbsoluteExpirationNotInTheFutureIsRefused()
    {
        var cache = Cache();
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddSeconds(-1) };
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", [1], past));
        Assert.False(Stored.Present(node.Raw, _instance, "k"));
    }

    [Fact]
    public void KeysAndValuesOutsideTheStoresLimitsAreRefusedWithTheLimit()
    {
        var cache = Cache();
        var tooLarge = Assert.Throws<ArgumentException>(() => cache.Set("k", new byte[(1 << 20) - Stored.HeaderSize + 1], s_forever));
        Assert.Contains("at most", tooLarge.Message);
        cache.Set("largest", new byte[(1 << 20) - Stored.HeaderSize], s_forever);
        Assert.Equal((1 << 20) - Stored.HeaderSize, cache.Get("largest")?.Length);
        Assert.Throws<ArgumentException>(() => cache.Get(""));
        var longKey = Assert.Throws<ArgumentException>(() => cache.Get(new string('x', 1025 - _instance.Length)));
        Assert.Contains("1024", longKey.Message);
        Assert.Throws<ArgumentNullException>(() => cache.Set("k", null!, s_forever));
    }
}
