namespace RdmaKv.Core.Tests;

/// <summary>
/// Damage a published extent in the region's memory and check that a one-sided reader never
/// accepts it: a damaged extent is unverifiable, so after its retries the reader must send the
/// client to the node (Fallback), never answer Found with other bytes nor NotFound.
/// </summary>
public class FaultInjectionTests
{
    const string KeyText = "victim-key";

    public enum Field { KeyByte, ValueByte, KeyLength, ValueLength, ValueLengthShorter, Sequence, Checksum }

    static readonly byte[] Key = TestKit.Key(KeyText);
    static readonly byte[] Original = TestKit.Value(9, 1, 150);

    static (PartitionWriter Writer, long Offset) Setup(int valueLength = 150)
    {
        PartitionWriter writer = TestKit.NewWriter(TestKit.Options() with { InitialBucketCount = 16 });
        for (int i = 0; i < 50; i++) Assert.Equal(StoreStatus.Ok, writer.Put(TestKit.Key(i), TestKit.Value(i, 0, 60)));
        byte[] value = valueLength == Original.Length ? Original : TestKit.Value(9, 1, valueLength);
        Assert.Equal(StoreStatus.Ok, writer.Put(Key, value));
        return (writer, TestKit.EntryOf(writer.Region, Key).ExtentOffset);
    }

    static int FieldOffset(Field field, int valueLength) => field switch
    {
        Field.KeyByte => ExtentHeader.Size + 3,
        Field.ValueByte => ExtentHeader.Size + Key.Length + valueLength / 2,
        Field.KeyLength => 16,
        Field.ValueLength or Field.ValueLengthShorter => 20,
        Field.Sequence => 24,
        Field.Checksum => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    static void AssertRejected(Region region, ReaderContext context, LocationCache? cache, byte[] expected)
    {
        long failuresBefore = context.ChecksumFailures;
        LookupResult result = TestKit.Lookup(region, Key, context, cache);
        Assert.False(result == LookupResult.Found && !context.LastValue.SequenceEqual(expected), "the reader accepted damaged bytes");
        Assert.Equal(LookupResult.Fallback, result);
        Assert.True(context.ChecksumFailures > failuresBefore, "the damage was not counted");
    }

    [Theory]
    [InlineData(Field.KeyByte)]
    [InlineData(Field.ValueByte)]
    [InlineData(Field.KeyLength)]
    [InlineData(Field.ValueLength)]
    [InlineData(Field.ValueLengthShorter)]
    [InlineData(Field.Sequence)]
    [InlineData(Field.Checksum)]
    public void ReaderNeverAcceptsAnExtentWithAFlippedByte(Field field)
    {
        var (writer, offset) = Setup();
        using (writer)
        {
            Region region = writer.Region;
            var cache = new LocationCache();
            var context = new ReaderContext();
            Assert.Equal(LookupResult.Found, TestKit.Lookup(region, Key, context, cache)); // cached now

            Span<byte> target = region.Bytes(offset + FieldOffset(field, Original.Length), 1);
            byte flip = field == Field.ValueLengthShorter ? (byte)0x02 : (byte)0x40; // 150 -> 148, or a jump by 64
            target[0] ^= flip;
            AssertRejected(region, context, cache, Original); // through the cached location
            AssertRejected(region, context, null, Original);  // through the buckets
            Assert.Equal(0, context.CacheHits);

            // Repairing the byte makes the extent valid again: the rejections were the damage's doing.
            target[0] ^= flip;
            Assert.Equal(LookupResult.Found, TestKit.Lookup(region, Key, context, cache));
            Assert.Equal(Original, context.LastValue.ToArray());
        }
    }

    [Fact]
    public void ReaderRejectsADamagedLargeExtent()
    {
        const int length = 200 * 1024;
        var (writer, offset) = Setup(length);
        using (writer)
        {
            Region region = writer.Region;
            Assert.True(TestKit.EntryOf(region, Key).IsLarge);
            var context = new ReaderContext();
            region.Bytes(offset + ExtentHeader.Size + Key.Length + length - 1, 1)[0] ^= 0x80;
            AssertRejected(region, context, null, TestKit.Value(9, 1, length));

            // A length beyond the limits is caught before the reader sizes its read by it.
            region.Bytes(offset + ExtentHeader.Size + Key.Length + length - 1, 1)[0] ^= 0x80;
            region.Bytes(offset + 20 + 3, 1)[0] ^= 0x10;
            AssertRejected(region, context, null, TestKit.Value(9, 1, length));
        }
    }

    [Fact]
    public void ReaderDetectsATornExtent()
    {
        var (writer, offset) = Setup();
        using (writer)
        {
            Region region = writer.Region;
            var context = new ReaderContext();
            var cache = new LocationCache();
            Assert.Equal(LookupResult.Found, TestKit.Lookup(region, Key, context, cache));

            // Half of a newer value lands over the old bytes; the checksum is still the old one.
            byte[] newer = TestKit.Value(9, 2, Original.Length);
            int half = Original.Length / 2;
            newer.AsSpan(0, half).CopyTo(region.Bytes(offset + ExtentHeader.Size + Key.Length, half));
            AssertRejected(region, context, cache, Original);
            AssertRejected(region, context, null, Original);
        }
    }

    [Fact]
    public void ReaderRetriesWhenExtentIsSupersededThenFallsBack()
    {
        var (writer, offset) = Setup();
        using (writer)
        {
            Region region = writer.Region;
            var context = new ReaderContext();
            region.Supersede(offset); // as if a writer replaced it but its entry were still visible
            Assert.Equal(LookupResult.Fallback, TestKit.Lookup(region, Key, context));
            Assert.Equal(TableReader.MaxAttempts, context.SupersededSeen);
            Assert.Equal(TableReader.MaxAttempts - 1, context.Retries);
            Assert.Equal(1, context.Fallbacks);
            Assert.Equal(0, context.ChecksumFailures);
        }
    }

    [Fact]
    public void DamageInThePaddingDoesNotChangeTheValue()
    {
        const int length = 100;
        var (writer, offset) = Setup(length);
        using (writer)
        {
            Region region = writer.Region;
            int used = ExtentHeader.Size + Key.Length + length;
            Assert.True(ExtentHeader.ExtentLength(Key.Length, length) > used);
            region.Bytes(offset + used, 1)[0] = 0xFF;
            var context = new ReaderContext();
            Assert.Equal(LookupResult.Found, TestKit.Lookup(region, Key, context));
            Assert.Equal(TestKit.Value(9, 1, length), context.LastValue.ToArray());
        }
    }

    [Fact]
    public void ReaderIgnoresAEntryPointingOutsideTheExtentArea()
    {
        var (writer, _) = Setup();
        using (writer)
        {
            Region region = writer.Region;
            KeyHash hash = TestKit.Hash(TestKit.Key("ghost"));
            ulong bucket = hash.PrimaryBucket(region.Header.BucketMask);
            int free = Enumerable.Range(0, Bucket.EntryCount).First(i => region.ReadEntry(bucket, i).IsEmpty);
            var context = new ReaderContext();
            foreach (long wild in new[] { 64L, region.Length, region.Length - 64 + 4096 })
            {
                region.PublishEntry(bucket, free, IndexEntry.Create(hash.Fingerprint, wild, 128));
                Assert.NotEqual(LookupResult.Found, TestKit.Lookup(region, TestKit.Key("ghost"), context));
            }
        }
    }
}
