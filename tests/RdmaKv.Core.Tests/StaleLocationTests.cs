namespace RdmaKv.Core.Tests;

/// <summary>
/// A reader whose location cache points at an older extent of a key: the windows in which that
/// memory is superseded, freed and reused by a newer write of the same key. Once the old extent is
/// superseded, the reader must never return its value, and it must never return a value whose entry
/// is not yet published.
/// </summary>
public unsafe class StaleLocationTests
{
    static readonly byte[] Key = TestKit.Key("stale-key");

    [Fact]
    public void ACachedLocationReusedByAnUnpublishedWriteOfTheSameKeyIsNotReadThroughTheCache()
    {
        using var writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 16 });
        byte[] v1 = TestKit.Value(1, 1, 100), v2 = TestKit.Value(1, 2, 100), v3 = TestKit.Value(1, 3, 100);
        Assert.Equal(StoreStatus.Ok, writer.Put(Key, v1));
        var cache = new LocationCache();
        var context = new ReaderContext();
        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, Key, context, cache)); // caches v1's location
        long first = TestKit.EntryOf(writer.Region, Key).ExtentOffset;
        Assert.Equal(StoreStatus.Ok, writer.Put(Key, v2));

        // v1's memory after its quarantine: a newer write of the same key lays v3 there, not yet published.
        ExtentHeader.Write(writer.Region.Bytes(first, ExtentHeader.ExtentLength(Key.Length, v3.Length)), Key, v3, sequence: 1_000_000);

        Assert.Equal(LookupResult.Found, TestKit.Lookup(writer.Region, Key, context, cache));
        Assert.Equal(v2, context.LastValue.ToArray());
    }

    [Fact]
    public void ARewriteOfSupersededMemoryNeverShowsTheOldValueAsCurrent()
    {
        using var writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 16 });
        byte[] old = TestKit.Value(2, 1, 900);
        Assert.Equal(StoreStatus.Ok, writer.Put(Key, old));
        Region region = writer.Region;
        long offset = TestKit.EntryOf(region, Key).ExtentOffset;
        int length = ExtentHeader.ExtentLength(Key.Length, old.Length);
        byte[] oldExtent = region.Bytes(offset, length).ToArray();
        oldExtent[0] |= (byte)ExtentHeader.SupersededFlag; // as the writer leaves it once replaced

        IndexEntry cached = TestKit.EntryOf(region, Key);
        ulong cachedSequence = BitConverter.ToUInt64(oldExtent, ExtentHeader.SequenceOffset);
        var hash = TestKit.Hash(Key);

        // The writer replays the reuse again and again: superseded old bytes, then a newer write over
        // them. A freed extent is reused only after a quarantine that outlasts any read; here, after
        // the reader has finished two more reads. The old extent is superseded before the reader's
        // first read, so no read below overlaps a moment in which the old value was still current:
        // superseded only by the rewriter's first round, reads that ran before that thread got a CPU
        // returned the then-current old value legally and were counted as failures.
        region.Supersede(offset);
        const int Rounds = 10_000;
        int round = 0;
        long readsDone = 0;
        var rewriter = new Thread(() =>
        {
            for (; Volatile.Read(ref round) < Rounds; Interlocked.Increment(ref round))
            {
                // The old extent as it stood once replaced: superseded (one atomic store), its bytes unchanged.
                region.Supersede(offset);
                long seen = Volatile.Read(ref readsDone);
                while (Volatile.Read(ref readsDone) < seen + 2) Thread.SpinWait(10);
                oldExtent.AsSpan(8).CopyTo(region.Bytes(offset + 8, length - 8));
                ExtentHeader.Write(region.Bytes(offset, length), Key, TestKit.Value(2, 2 + round % 50, old.Length), (ulong)(10 + round));
            }
        });
        rewriter.Start();
        long accepted = 0, reads = 0;
        var context = new ReaderContext();
        var access = new MappedRegionAccess(region.Base, region.Length);
        var cache = new LocationCache();
        while (Volatile.Read(ref round) < Rounds)
        {
            // The cached location only: the entry the reader remembers, with the sequence it validated.
            reads++;
            cache.Set(hash, region.Header.Generation, cached, cachedSequence);
            context.CacheHits = 0;
            if (TableReader.Lookup(ref access, region.Header, Key, hash, cache, context) == LookupResult.Found
                && context.CacheHits > 0 && context.LastValue.SequenceEqual(old))
            {
                accepted++;
            }
            Interlocked.Increment(ref readsDone);
        }
        rewriter.Join();
        Assert.True(reads > 0, "the reader never ran while the memory was rewritten");
        Assert.True(accepted == 0, $"{accepted} of {reads} reads through the cache returned the superseded value");
    }
}
