namespace RdmaKv.Core.Tests;

public unsafe class TableReaderTests
{
    [Fact]
    public void LookupFindsPresentKeysWithTheirBytesAndReportsAbsentOnes()
    {
        using PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 8 });
        for (int i = 0; i < 40; i++) Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), TestKit.Value(i, 0, 10 + i * 13)));

        var context = new ReaderContext();
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key(i), context));
            Assert.Equal(TestKit.Value(i, 0, 10 + i * 13), context.LastValue.ToArray());
        }
        for (int i = 40; i < 80; i++) Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, TestKit.Key(i), context));
        Assert.Equal(80, context.Lookups);
        Assert.Equal(0, context.Retries);
        Assert.Equal(0, context.ChecksumFailures);
        Assert.Equal(0, context.Fallbacks);
    }

    [Fact]
    public void SecondLookupOfAKeyIsACacheHit()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("hot");
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "v1"u8));
        var cache = new LocationCache();
        var context = new ReaderContext();

        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(0, context.CacheHits);
        Assert.True(cache.TryGet(TestKit.Hash(key), writer.Region.Header.Generation, out IndexEntry cached, out _));
        Assert.Equal(TestKit.EntryOf(writer.Region, key), cached);

        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(1, context.CacheHits);
        Assert.Equal("v1"u8.ToArray(), context.LastValue.ToArray());
    }

    [Fact]
    public void StaleCacheEntryIsNotReturnedAfterAnOverwrite()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("hot");
        var cache = new LocationCache();
        var context = new ReaderContext();
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "version one"u8));
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        IndexEntry before = TestKit.EntryOf(writer.Region, key);

        Assert.Equal(StoreStatus.Ok, writer.Put(key, "version two"u8));
        Assert.NotEqual(before.ExtentOffset, TestKit.EntryOf(writer.Region, key).ExtentOffset);
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal("version two"u8.ToArray(), context.LastValue.ToArray());
        Assert.Equal(0, context.CacheHits);
        Assert.Equal(1, context.SupersededSeen);

        // The lookup re-cached the new location, and a delete invalidates it as well.
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(1, context.CacheHits);
        Assert.Equal(StoreStatus.Ok, writer.Delete(key));
        Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(1, context.CacheHits);
    }

    [Fact]
    public void CacheEntryOfAnOlderGenerationIsNotUsed()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("hot");
        var cache = new LocationCache();
        var context = new ReaderContext();
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "v"u8));
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.True(writer.Grow());

        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(0, context.CacheHits);
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
        Assert.Equal(1, context.CacheHits);
    }

    [Fact]
    public void LookupInARetiredRegionIsStale()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] present = TestKit.Key("present");
        byte[] absent = TestKit.Key("absent");
        Assert.Equal(StoreStatus.Ok, writer.Put(present, "v"u8));
        Region old = writer.Region;
        var cache = new LocationCache();
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(old, present, context, cache));

        Assert.True(writer.Grow());
        Assert.Equal(LookupResult.Stale, TestKit.Lookup(old, present, context, cache)); // cached location, now superseded
        Assert.Equal(LookupResult.Stale, TestKit.Lookup(old, present, context));
        Assert.Equal(LookupResult.Stale, TestKit.Lookup(old, absent, context));
        Assert.Equal(0, context.CacheHits);

        // Refreshing the view to the current region answers again.
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, present, context, cache));
        Assert.Equal("v"u8.ToArray(), context.LastValue.ToArray());
        Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, absent, context, cache));
    }

    [Fact]
    public void LookupIsStaleWhenTheRegionCannotBeRead()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("k");
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "v"u8));
        Region region = writer.Region;
        // An access that ends before the index: every bucket read fails, as an unregistered region would.
        var access = new MappedRegionAccess(region.Base, RegionHeader.Size);
        RegionHeader header = region.Header;
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Stale, TableReader.Lookup(ref access, header, key, TestKit.Hash(key), null, context));
    }

    [Fact]
    public void MappedAccessRefusesReadsOutsideTheRegion()
    {
        byte* memory = stackalloc byte[256];
        for (int i = 0; i < 256; i++) memory[i] = (byte)i;
        var access = new MappedRegionAccess(memory, 256);
        byte[] buffer = new byte[64];
        Assert.True(access.Read(192, buffer));
        Assert.Equal(192, buffer[0]);
        Assert.Equal(255, buffer[63]);
        Assert.False(access.Read(193, buffer));
        Assert.False(access.Read(-8, buffer));
        Assert.False(access.Read(long.MaxValue, buffer));
        Assert.True(access.ReadPair(0, buffer.AsSpan(0, 8), 248, buffer.AsSpan(8, 8)));
        Assert.Equal(248, buffer[8]);
        Assert.False(access.ReadPair(0, buffer.AsSpan(0, 8), 250, buffer.AsSpan(8, 8)));
    }

    [Fact]
    public void KeysSharingAFingerprintAreToldApartByTheFullKey()
    {
        using PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 2 });
        // Find two keys with the same fingerprint (and so, with two buckets, the same candidates).
        var byFingerprint = new Dictionary<ushort, int>();
        int a = -1, b = -1;
        for (int i = 0; a < 0; i++)
        {
            ushort fingerprint = TestKit.Hash(TestKit.Key(i)).Fingerprint;
            if (byFingerprint.TryGetValue(fingerprint, out int other)) (a, b) = (other, i);
            else byFingerprint[fingerprint] = i;
        }
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(a), "value a"u8));
        var context = new ReaderContext();
        Assert.Equal(LookupResult.NotFound, TestKit.Lookup(writer.Region, TestKit.Key(b), context));
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(b), "value b"u8));
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key(a), context));
        Assert.Equal("value a"u8.ToArray(), context.LastValue.ToArray());
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key(b), context));
        Assert.Equal("value b"u8.ToArray(), context.LastValue.ToArray());
        Assert.Equal(0, context.ChecksumFailures);
    }
}
