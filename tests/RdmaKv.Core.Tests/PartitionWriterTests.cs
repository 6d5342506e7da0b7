namespace RdmaKv.Core.Tests;

public class PartitionWriterTests
{
    [Fact]
    public void PutGetOverwriteAndDeleteBehaveLikeADictionary()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("alpha");
        Assert.Null(TestKit.WriterValue(writer, key));

        Assert.Equal(StoreStatus.Ok, writer.Put(key, "one"u8));
        Assert.Equal("one"u8.ToArray(), TestKit.WriterValue(writer, key));
        Assert.Equal(1, writer.Count);
        ulong afterFirst = writer.LastSequence;

        Assert.Equal(StoreStatus.Ok, writer.Put(key, "two, longer than one"u8));
        Assert.Equal("two, longer than one"u8.ToArray(), TestKit.WriterValue(writer, key));
        Assert.Equal(1, writer.Count);
        Assert.True(writer.LastSequence > afterFirst);

        Assert.Equal(StoreStatus.Ok, writer.Delete(key));
        Assert.Null(TestKit.WriterValue(writer, key));
        Assert.Equal(0, writer.Count);
        Assert.Equal(StoreStatus.NotFound, writer.Delete(key));

        Assert.Equal(StoreStatus.Ok, writer.Put(key, "three"u8));
        Assert.Equal("three"u8.ToArray(), TestKit.WriterValue(writer, key));
        Assert.Equal(1, writer.Count);
    }

    [Fact]
    public void APutAndADeleteGivenTheCallersHashFileTheKeyWhereTheWritersOwnLookupFindsIt()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("hashed-once");
        var hash = TestKit.Hash(key);

        Assert.Equal(StoreStatus.Ok, writer.Put(key, hash, "v1"u8));
        Assert.Equal("v1"u8.ToArray(), TestKit.WriterValue(writer, key));
        Assert.Equal(StoreStatus.Ok, writer.Put(key, "v2"u8)); // the unhashed overload finds the same entry
        Assert.Equal(1, writer.Count);
        Assert.Equal(StoreStatus.Ok, writer.Delete(key, hash));
        Assert.Null(TestKit.WriterValue(writer, key));
        Assert.Equal(0, writer.Count);
    }

    [Fact]
    public void ManyKeysKeepTheirOwnValuesThroughOverwritesAndDeletes()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        var model = new Dictionary<int, byte[]>();
        var random = new Random(5);
        for (int op = 0; op < 20_000; op++)
        {
            int i = random.Next(2_000);
            if (random.Next(4) == 0)
            {
                Assert.Equal(model.Remove(i) ? StoreStatus.Ok : StoreStatus.NotFound, writer.Delete(TestKit.Key(i)));
            }
            else
            {
                byte[] value = TestKit.Value(i, op, random.Next(0, 700));
                Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), value));
                model[i] = value;
            }
        }
        Assert.Equal(model.Count, writer.Count);
        for (int i = 0; i < 2_000; i++)
            Assert.Equal(model.GetValueOrDefault(i), TestKit.WriterValue(writer, TestKit.Key(i)));
    }

    [Fact]
    public void EmptyValueIsStoredAndReadBack()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("empty");
        Assert.Equal(StoreStatus.Ok, writer.Put(key, ReadOnlySpan<byte>.Empty));
        Assert.True(writer.TryGetValue(key, out ReadOnlySpan<byte> value));
        Assert.Equal(0, value.Length);

        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context));
        Assert.Equal(0, context.LastValue.Length);
    }

    [Fact]
    public void EmptyKeyIsRejected()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        Assert.Equal(StoreStatus.KeyEmpty, writer.Put(ReadOnlySpan<byte>.Empty, "v"u8));
        Assert.Equal(StoreStatus.KeyEmpty, writer.Delete(ReadOnlySpan<byte>.Empty));
        Assert.False(writer.TryGetValue(ReadOnlySpan<byte>.Empty, out _));
        Assert.Equal(0, writer.Count);
    }

    [Fact]
    public void KeyLongerThanTheLimitIsRejectedAndOneAtTheLimitIsStored()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] tooLong = new byte[Limits.MaxKeyLength + 1];
        tooLong.AsSpan().Fill((byte)'k');
        Assert.Equal(StoreStatus.KeyTooLong, writer.Put(tooLong, "v"u8));
        Assert.Equal(StoreStatus.KeyTooLong, writer.Delete(tooLong));
        Assert.False(writer.TryGetValue(tooLong, out _));

        byte[] atLimit = tooLong[..Limits.MaxKeyLength];
        Assert.Equal(StoreStatus.Ok, writer.Put(atLimit, "v"u8));
        Assert.Equal("v"u8.ToArray(), TestKit.WriterValue(writer, atLimit));
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, atLimit, context));
        Assert.Equal("v"u8.ToArray(), context.LastValue.ToArray());
    }

    [Fact]
    public void ValueLongerThanTheLimitIsRejectedAndOneAtTheLimitIsStored()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        byte[] key = TestKit.Key("big");
        Assert.Equal(StoreStatus.ValueTooLong, writer.Put(key, new byte[Limits.MaxValueLength + 1]));
        Assert.Equal(0, writer.Count);

        byte[] atLimit = TestKit.Value(1, 1, Limits.MaxValueLength);
        Assert.Equal(StoreStatus.Ok, writer.Put(key, atLimit));
        Assert.Equal(atLimit, TestKit.WriterValue(writer, key));
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context));
        Assert.True(context.LastValue.SequenceEqual(atLimit));
    }

    [Fact]
    public void LargeValuesUseTheLargeEntryMarkerAndRoundTrip()
    {
        using PartitionWriter writer = TestKit.NewWriter();
        var context = new ReaderContext();
        var cache = new LocationCache();
        for (int i = 0; i < 4; i++)
        {
            byte[] key = TestKit.Key(i);
            byte[] value = TestKit.Value(i, 1, 200 * 1024 + i * 1000);
            Assert.Equal(StoreStatus.Ok, writer.Put(key, value));
            Assert.True(TestKit.EntryOf(writer.Region, key).IsLarge);
            Assert.Equal(value, TestKit.WriterValue(writer, key));
            Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache));
            Assert.True(context.LastValue.SequenceEqual(value));
            Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context, cache)); // through the cache
            Assert.True(context.LastValue.SequenceEqual(value));
        }
        Assert.Equal(4, context.CacheHits);

        // Shrinking a large value to a small one moves the key to a small entry.
        byte[] small = TestKit.Value(0, 2, 100);
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(0), small));
        Assert.False(TestKit.EntryOf(writer.Region, TestKit.Key(0)).IsLarge);
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, TestKit.Key(0), context, cache));
        Assert.True(context.LastValue.SequenceEqual(small));
    }

    [Fact]
    public void StatsDescribeThePartition()
    {
        using PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { Partition = 5, PartitionCount = 8 });
        for (int i = 0; i < 100; i++) Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), TestKit.Value(i, 0, 50)));
        PartitionStats stats = writer.Stats;
        Assert.Equal(5, stats.Partition);
        Assert.Equal(100, stats.Count);
        Assert.Equal(writer.Region.Header.Generation, stats.Generation);
        Assert.Equal(writer.Region.Header.BucketCount, stats.BucketCount);
        Assert.Equal(writer.Region.Length, stats.RegionBytes);
        Assert.Equal(100.0 / (stats.BucketCount * Bucket.EntryCount), stats.LoadFactor, 12);
        Assert.Equal(100 * 128, stats.Extents.AllocatedBytes); // 32 + 10 + 50 bytes round to two units
        Assert.Equal(8, writer.Region.Header.PartitionCount);
        Assert.Equal(RegionState.Active, writer.Region.State);
    }
}
