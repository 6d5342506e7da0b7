namespace RdmaKv.Core.Tests;

public class PartitionGrowthTests
{
    static PartitionWriterOptions Tiny() => TestKit.Options() with { InitialBucketCount = 2, InitialExtentBytes = 4096 };

    static void AssertAllReadable(PartitionWriter writer, IReadOnlyDictionary<int, byte[]> model)
    {
        var context = new ReaderContext();
        foreach (var (i, value) in model)
        {
            byte[] key = TestKit.Key(i);
            Assert.Equal(value, TestKit.WriterValue(writer, key));
            Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, key, context));
            Assert.True(context.LastValue.SequenceEqual(value), $"key {i} read back the wrong bytes");
        }
    }

    [Fact]
    public void ThousandsOfKeysGrowATinyRegionAndStayReadable()
    {
        using PartitionWriter writer = TestKit.NewWriter(Tiny());
        Region first = writer.Region;
        Assert.Equal(1UL, first.Header.Generation);
        int published = 0;
        writer.RegionPublished += region =>
        {
            Assert.Same(writer.Region, region);
            Assert.Equal(RegionState.Active, region.State);
            published++;
        };

        var model = new Dictionary<int, byte[]>();
        for (int i = 0; i < 5_000; i++)
        {
            model[i] = TestKit.Value(i, 0, i % 300);
            Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), model[i]));
        }

        PartitionStats stats = writer.Stats;
        Assert.Equal(5_000, writer.Count);
        Assert.True(stats.Grows > 0);
        Assert.Equal(stats.Grows, published);
        Assert.Equal(1UL + (ulong)stats.Grows, stats.Generation);
        Assert.True(stats.BucketCount * Bucket.EntryCount >= 5_000);
        Assert.True(stats.LoadFactor <= TestKit.Options().MaxLoadFactor);
        Assert.Equal(RegionState.Retired, first.State);
        AssertAllReadable(writer, model);
    }

    [Fact]
    public void AFullIndexMovesEntrysAlongCuckooChains()
    {
        // 64 buckets filled to 95%: two choices alone cannot place every key.
        var options = TestKit.Options() with { InitialBucketCount = 64, MaxLoadFactor = 0.95 };
        using PartitionWriter writer = TestKit.NewWriter(options);
        var model = new Dictionary<int, byte[]>();
        for (int i = 0; i < 420; i++)
        {
            model[i] = TestKit.Value(i, 0, 40);
            Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), model[i]));
        }
        Assert.True(writer.Stats.CuckooMoves > 0, "no key was displaced");
        Assert.Equal(0, writer.Stats.Grows);
        AssertAllReadable(writer, model);

        // Every key sits in one of its two candidate buckets, exactly once.
        Region region = writer.Region;
        Assert.Equal(420, TestKit.LiveEntries(region).Count);
        foreach (int i in model.Keys) TestKit.EntryOf(region, TestKit.Key(i));
    }

    [Fact]
    public void AFullRegionRefusesNewKeysButKeepsEveryAcknowledgedOneAndStillServesOverwritesAndDeletes()
    {
        var options = TestKit.Options() with { InitialBucketCount = 16, InitialExtentBytes = 16 * 1024, MaxRegionBytes = 160 * 1024 };
        using PartitionWriter writer = TestKit.NewWriter(options);
        var model = new Dictionary<int, byte[]>();
        int full = -1;
        for (int i = 0; i < 10_000 && full < 0; i++)
        {
            byte[] value = TestKit.Value(i, 0, 200);
            StoreStatus status = writer.Put(TestKit.Key(i), value);
            if (status == StoreStatus.RegionFull) full = i;
            else
            {
                Assert.Equal(StoreStatus.Ok, status);
                model[i] = value;
            }
        }
        Assert.True(full > 100, $"the region filled after {full} keys");
        Assert.True(writer.Region.Length <= options.MaxRegionBytes);
        Assert.Null(TestKit.WriterValue(writer, TestKit.Key(full)));
        Assert.Equal(model.Count, writer.Count);
        AssertAllReadable(writer, model);
        Assert.Equal(StoreStatus.RegionFull, writer.Put(TestKit.Key(full), TestKit.Value(full, 0, 200)));

        // Deleting a third frees room: then overwrites (same and larger sizes) and new keys succeed.
        foreach (int i in model.Keys.Where(i => i % 3 == 0).ToList())
        {
            Assert.Equal(StoreStatus.Ok, writer.Delete(TestKit.Key(i)));
            model.Remove(i);
        }
        foreach (int i in model.Keys.ToList())
        {
            model[i] = TestKit.Value(i, 1, i % 2 == 0 ? 200 : 260);
            Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), model[i]));
        }
        model[full] = TestKit.Value(full, 1, 200);
        Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(full), model[full]));
        Assert.Equal(model.Count, writer.Count);
        Assert.True(writer.Region.Length <= options.MaxRegionBytes);
        AssertAllReadable(writer, model);
        for (int i = 0; i < full; i += 3) Assert.Null(TestKit.WriterValue(writer, TestKit.Key(i)));
    }

    [Fact]
    public void GrowRetiresTheOldRegionSoNoReaderCanSettleOnIt()
    {
        using PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 64 });
        var model = new Dictionary<int, byte[]>();
        for (int i = 0; i < 300; i++)
        {
            model[i] = TestKit.Value(i, 0, 90);
            Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), model[i]));
        }
        for (int i = 0; i < 300; i += 2) Assert.Equal(StoreStatus.Ok, writer.Delete(TestKit.Key(i)));
        for (int i = 0; i < 300; i += 2) model.Remove(i);

        Region old = writer.Region;
        List<IndexEntry> live = TestKit.LiveEntries(old);
        Assert.Equal(150, live.Count);
        Assert.All(live, s => Assert.Equal(0UL, old.ExtentAt(s.ExtentOffset).State & ExtentHeader.SupersededFlag));

        Assert.True(writer.Grow());
        Region next = writer.Region;
        Assert.NotSame(old, next);
        Assert.Equal(old.Header.Generation + 1, next.Header.Generation);
        Assert.Equal(RegionState.Active, next.State);
        Assert.Equal(RegionState.Retired, old.State);
        for (ulong b = 0; b < (ulong)old.Header.BucketCount; b++)
            Assert.True((TestKit.BucketVersion(old, b) & 1) == 1, $"bucket {b} of the retired region has an even version");
        Assert.All(live, s => Assert.Equal(ExtentHeader.SupersededFlag, old.ExtentAt(s.ExtentOffset).State & ExtentHeader.SupersededFlag));

        // The new generation holds exactly the live entries, and nothing in it is superseded.
        List<IndexEntry> moved = TestKit.LiveEntries(next);
        Assert.Equal(150, moved.Count);
        Assert.All(moved, s => Assert.Equal(0UL, next.ExtentAt(s.ExtentOffset).State));
        for (ulong b = 0; b < (ulong)next.Header.BucketCount; b++)
            Assert.True((TestKit.BucketVersion(next, b) & 1) == 0);
        AssertAllReadable(writer, model);
    }

    [Fact]
    public void AReservedRegionTakesABulkLoadWithoutGrowingAgain()
    {
        const int Keys = 20_000;
        long bytes = Enumerable.Range(0, Keys).Sum(i => PartitionWriter.ExtentBytes(TestKit.Key(i).Length, 300));
        using PartitionWriter unreserved = TestKit.NewWriter();
        using PartitionWriter reserved = TestKit.NewWriter();
        Assert.True(reserved.Reserve(Keys, bytes));
        Assert.Equal(1, reserved.Stats.Grows);
        foreach (var writer in new[] { unreserved, reserved })
        {
            for (int i = 0; i < Keys; i++) Assert.Equal(StoreStatus.Ok, writer.Load(TestKit.Key(i), TestKit.Value(i, 1, 300)));
        }
        Assert.Equal(1, reserved.Stats.Grows);              // the load fitted what was reserved
        Assert.True(unreserved.Stats.Grows >= 3, $"{unreserved.Stats.Grows} grows without a reservation");
        for (int i = 0; i < Keys; i += 97) Assert.Equal(TestKit.Value(i, 1, 300), TestKit.WriterValue(reserved, TestKit.Key(i)));
        Assert.False(reserved.Reserve(Keys, bytes));        // it already has the room
    }
}
