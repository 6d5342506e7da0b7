using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace RdmaKv.Extensions.Tests;

/// <summary>IBufferDistributedCache: values read into the caller's buffer writer, written from sequences.</summary>
public sealed class BufferCacheTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    readonly string _instance = NodeFixture.UniqueInstance();
    static readonly DistributedCacheEntryOptions s_forever = new();

    IBufferDistributedCache Cache(TimeProvider? clock = null) => new RdmaKvCache(node.Raw, new RdmaKvCacheOptions { InstanceName = _instance }, clock);

    static byte[] Pattern(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 + i / 251))];

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(4096 - 25)]
    [InlineData(4096)]
    [InlineData(300 << 10)]
    public void TryGetWritesTheValueAfterWhatTheWriterHolds(int length)
    {
        var cache = Cache();
        byte[] value = Pattern(length);
        cache.Set("k", new ReadOnlySequence<byte>(value), s_forever);
        var writer = new ArrayBufferWriter<byte>();
        writer.Write("head"u8);
        Assert.True(cache.TryGet("k", writer));
        Assert.Equal([.. "head"u8, .. value], writer.WrittenSpan.ToArray());
        // Larger values than the first were: read as well the second time.
        var again = new ArrayBufferWriter<byte>();
        Assert.True(cache.TryGet("k", again));
        Assert.Equal(value, again.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task TryGetAsyncAndSetAsyncOfASequenceInManySegments()
    {
        var cache = Cache();
        byte[] value = Pattern(10_000);
        await cache.SetAsync("k", Segment.Split(value, 7), s_forever);
        var writer = new ArrayBufferWriter<byte>(16);
        Assert.True(await cache.TryGetAsync("k", writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());
        Assert.Equal(value, ((IDistributedCache)cache).Get("k"));
    }

    [Fact]
    public async Task TryGetOfAMissingKeyIsFalseAndWritesNothing()
    {
        var cache = Cache();
        var writer = new ArrayBufferWriter<byte>();
        Assert.False(cache.TryGet("missing", writer));
        Assert.False(await cache.TryGetAsync("missing", writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task TryGetSlidesASlidingEntryAlong()
    {
        var clock = new ManualClock();
        var cache = Cache(clock);
        var window = TimeSpan.FromMinutes(10);
        cache.Set("small", new ReadOnlySequence<byte>([1, 2]), new DistributedCacheEntryOptions { SlidingExpiration = window });
        byte[] large = Pattern(600 << 10);
        cache.Set("large", new ReadOnlySequence<byte>(large), new DistributedCacheEntryOptions { SlidingExpiration = window });
        for (int i = 0; i < 3; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(9));
            var writer = new ArrayBufferWriter<byte>();
            Assert.True(i % 2 == 0 ? cache.TryGet("small", writer) : await cache.TryGetAsync("small", writer));
            Assert.Equal([1, 2], writer.WrittenSpan.ToArray());
            var big = new ArrayBufferWriter<byte>();
            Assert.True(i % 2 == 0 ? cache.TryGet("large", big) : await cache.TryGetAsync("large", big));
            Assert.Equal(large.Length, big.WrittenCount);
            Assert.Equal((clock.GetUtcNow() + window).ToUnixTimeMilliseconds(), Stored.Read(node.Raw, _instance, "small")!.Value.StoreExpiryMs);
            Assert.Equal((clock.GetUtcNow() + window).ToUnixTimeMilliseconds(), Stored.Read(node.Raw, _instance, "large")!.Value.StoreExpiryMs);
        }
        clock.Advance(window);
        Assert.False(cache.TryGet("small", new ArrayBufferWriter<byte>()));
        Assert.False(await cache.TryGetAsync("large", new ArrayBufferWriter<byte>()));
    }
}
