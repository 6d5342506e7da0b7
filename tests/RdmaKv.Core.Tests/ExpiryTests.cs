namespace RdmaKv.Core.Tests;

/// <summary>Region format 2: an extent carries its expiry, and every reader takes a value past it as absent.</summary>
public class ExpiryTests
{
    [Fact]
    public void AValuePastItsExpiryReadsAsAbsentToOneSidedReadersAndTheWriterAlike()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        long now = Expiry.Now();
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key("gone"), "old"u8, now - 1));
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key("later"), "soon"u8, now + 60_000));
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key("never"), "kept"u8));
        var context = new ReaderContext();
        var cache = new LocationCache();

        Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, TestKit.Key("gone"), context, cache));
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key("later"), context, cache));
        Assert.Equal("soon"u8.ToArray(), context.LastValue.ToArray());
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key("never"), context, cache));
        Assert.Equal(0, context.Fallbacks);
        Assert.Equal(0, context.ChecksumFailures);

        Assert.Equal(Residence.Absent, writer.Lookup(TestKit.Key("gone"), out _, out _));
        Assert.Equal(Residence.Resident, writer.Lookup(TestKit.Key("later"), out _, out long expiresAt));
        Assert.Equal(now + 60_000, expiresAt);
        Assert.Equal(Residence.Resident, writer.Lookup(TestKit.Key("never"), out _, out long never));
        Assert.Equal(Expiry.Never, never);
    }

    [Fact]
    public void ACachedLocationOfAValueThatHasSinceExpiredReadsAsAbsent()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("brief");
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "v"u8, Expiry.Now() + 300));
        var context = new ReaderContext();
        var cache = new LocationCache();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.True(cache.TryGet(TestKit.Hash(key), writer.Region.Header.Generation, out _, out _));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (TestKit.Lookup(writer.Region, key, context, cache) == LookupResult.Found)
        {
            Assert.True(DateTime.UtcNow < deadline, "the value never expired");
            Thread.Sleep(20);
        }
        Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.True(context.CacheHits > 0, "the expired value was not judged from its cached location");
    }

    [Fact]
    public void APutWithoutAnExpiryReplacesOneWithIt()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("k");
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "short"u8, Expiry.Now() - 5));
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "long"u8));
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context));
        Assert.Equal("long"u8.ToArray(), context.LastValue.ToArray());
    }

    [Fact]
    public void TheSweepFindsOnlyExpiredValuesAndVisitsTheWholeIndexInBoundedSteps()
    {
        using PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 64 });
        long now = Expiry.Now();
        for (int i = 0; i < 200; i++)
            Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), TestKit.Value(i, 0, 20), i % 3 == 0 ? now - 10 : i % 3 == 1 ? now + 600_000 : Expiry.Never));
        long buckets = writer.Region.Header.BucketCount;
        var found = new List<byte[]>();
        writer.FindExpired(8, now, found);
        Assert.True(found.Count <= 8 * Bucket.EntryCount, "one step looked at more than its buckets");
        for (long seen = 8; seen < buckets; seen += 8) writer.FindExpired(8, now, found);
        var expected = Enumerable.Range(0, 200).Where(i => i % 3 == 0).Select(i => Convert.ToHexString(TestKit.Key(i))).Order().ToList();
        Assert.Equal(expected, found.Select(Convert.ToHexString).Order().ToList());
    }

    [Fact]
    public void TheExtentHeaderCarriesTheExpiryUnderTheChecksum()
    {
        var extent = new byte[ExtentHeader.ExtentLength(3, 4)];
        ExtentHeader.Write(extent, "key"u8, "data"u8, 7, 1_234_567);
        Assert.Equal(1_234_567, BitConverter.ToInt64(extent, ExtentHeader.ExpiresAtOffset));
        var context = new ReaderContext();
        Assert.True(TableReader.TryAcceptExtent(extent, "key"u8, context, out _, out bool expired));
        Assert.True(expired, "an extent that expired in 1970 was accepted as live");
        extent[ExtentHeader.ExpiresAtOffset] ^= 1; // a changed expiry fails the checksum
        Assert.False(TableReader.TryAcceptExtent(extent, "key"u8, context, out _, out _));
        Assert.Equal(2u, RegionHeader.FormatVersion);
    }
}
