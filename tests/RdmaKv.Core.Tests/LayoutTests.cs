using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RdmaKv.Core.Tests;

public class LayoutTests
{
    [Fact]
    public void ExtentHeaderSizeMatchesItsConstant()
    {
        Assert.Equal(ExtentHeader.Size, Unsafe.SizeOf<ExtentHeader>());
        Assert.Equal(ExtentHeader.Size, Marshal.SizeOf<ExtentHeader>());
    }

    [Fact]
    public void ExtentHeaderFieldsSitAtTheDocumentedOffsets()
    {
        Assert.Equal(0, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.State)));
        Assert.Equal(8, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.Checksum)));
        Assert.Equal(16, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.KeyLength)));
        Assert.Equal(20, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.ValueLength)));
        Assert.Equal(24, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.Sequence)));
        // The constants the reader uses on raw bytes name the same places.
        Assert.Equal(ExtentHeader.ChecksumOffset, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.Checksum)));
        Assert.Equal(ExtentHeader.KeyLengthOffset, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.KeyLength)));
        Assert.Equal(ExtentHeader.ValueLengthOffset, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.ValueLength)));
        Assert.Equal(ExtentHeader.SequenceOffset, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.Sequence)));
        Assert.Equal(ExtentHeader.ChecksumStart, (int)Marshal.OffsetOf<ExtentHeader>(nameof(ExtentHeader.KeyLength)));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 64, 1)]
    [InlineData(64, 64, 1)]
    [InlineData(65, 128, 2)]
    [InlineData(131_071, 131_072, 2048)]
    public void ExtentUnitsRoundUpToWholeUnits(int bytes, int roundedUp, int units)
    {
        Assert.Equal(roundedUp, ExtentUnits.RoundUp(bytes));
        Assert.Equal(roundedUp, ExtentUnits.RoundUp((long)bytes));
        Assert.Equal(units, ExtentUnits.CountUp(bytes));
        Assert.Equal(roundedUp, ExtentUnits.Bytes(units));
        Assert.Equal(units, ExtentUnits.Count(roundedUp));
        Assert.Equal(roundedUp - (bytes % 64 == 0 ? 0 : 64), ExtentUnits.RoundDown(bytes));
    }

    [Fact]
    public void ExtentWriteProducesWhatTheHeaderStructReadsBack()
    {
        byte[] key = TestKit.Key("a key");
        byte[] value = TestKit.Value(1, 1, 77);
        int length = ExtentHeader.ExtentLength(key.Length, value.Length);
        Assert.Equal(0, length % 64);
        Assert.True(length >= ExtentHeader.Size + key.Length + value.Length);
        byte[] extent = new byte[length];
        extent.AsSpan().Fill(0xEE);
        ExtentHeader.Write(extent, key, value, 42);

        ExtentHeader header = MemoryMarshal.Read<ExtentHeader>(extent);
        Assert.Equal(0UL, header.State);
        Assert.Equal((uint)key.Length, header.KeyLength);
        Assert.Equal((uint)value.Length, header.ValueLength);
        Assert.Equal(42UL, header.Sequence);
        int used = ExtentHeader.Size + key.Length + value.Length;
        Assert.Equal(XxHash3.HashToUInt64(extent.AsSpan(ExtentHeader.ChecksumStart, used - ExtentHeader.ChecksumStart)), header.Checksum);
        Assert.Equal(header.Checksum, BinaryPrimitives.ReadUInt64LittleEndian(extent.AsSpan(8)));
        Assert.True(extent.AsSpan(ExtentHeader.Size, key.Length).SequenceEqual(key));
        Assert.True(extent.AsSpan(ExtentHeader.Size + key.Length, value.Length).SequenceEqual(value));
        Assert.DoesNotContain(extent.AsSpan(used).ToArray(), b => b != 0); // padding cleared
    }

    [Theory]
    [InlineData((ushort)0, 64L, 64)]
    [InlineData((ushort)0xFFFF, 4096L, 128)]
    [InlineData((ushort)0x1234, 1L << 30, 2046 * 64)]
    [InlineData((ushort)0xABCD, ((1L << 36) - 1) << 6, 640)]
    public void EntryPackingRoundTrips(ushort fingerprint, long offset, int length)
    {
        IndexEntry entry = IndexEntry.Create(fingerprint, offset, length);
        Assert.False(entry.IsEmpty);
        Assert.NotEqual(0UL, entry.Raw);
        Assert.Equal(fingerprint, entry.Fingerprint);
        Assert.Equal(offset, entry.ExtentOffset);
        Assert.Equal(length >> 6, entry.Units);
        Assert.False(entry.IsLarge);
        Assert.False(entry.NotResident);
        Assert.Equal(entry, new IndexEntry(entry.Raw));
    }

    [Theory]
    [InlineData(2046 * 64, false)]
    [InlineData(2047 * 64, true)]
    [InlineData(2048 * 64, true)]
    [InlineData(Limits.MaxExtentLength, true)]
    public void EntryUsesTheLargeMarkerFrom2047Units(int length, bool large)
    {
        IndexEntry entry = IndexEntry.Create(0x7777, 1L << 20, length);
        Assert.Equal(large, entry.IsLarge);
        Assert.Equal(large ? IndexEntry.LargeUnits : length >> 6, entry.Units);
        Assert.Equal(1L << 20, entry.ExtentOffset);
        Assert.Equal((ushort)0x7777, entry.Fingerprint);
    }

    [Fact]
    public void OccupiedEntryIsNeverZeroForAnyFingerprint()
    {
        var random = new Random(7);
        for (int i = 0; i < 100_000; i++)
        {
            ushort fingerprint = (ushort)random.Next(0x10000);
            long offset = (long)random.Next(1, int.MaxValue) << 6;
            int length = random.Next(1, Limits.MaxExtentLength / 64 + 1) << 6;
            IndexEntry entry = IndexEntry.Create(fingerprint, offset, length);
            Assert.False(entry.IsEmpty);
            Assert.Equal(offset, entry.ExtentOffset);
            Assert.Equal(fingerprint, entry.Fingerprint);
        }
        Assert.True(default(IndexEntry).IsEmpty);
    }

    static RegionHeader SampleHeader() => RegionHeader.Plan(3, 16, 9, 256, 0x1122_3344_5566_7788, 1 << 20);

    [Fact]
    public void RegionHeaderRoundTripsThroughItsPage()
    {
        RegionHeader header = SampleHeader();
        Assert.Equal(RegionHeader.IndexOffset + 256 * Bucket.Size, header.ExtentOffset);
        Assert.Equal(header.ExtentOffset + header.ExtentSize, header.RegionSize);
        Assert.Equal(255UL, header.BucketMask);

        byte[] page = new byte[RegionHeader.Size];
        header.Write(page);
        Assert.Equal(RegionHeader.Magic, BinaryPrimitives.ReadUInt64LittleEndian(page));
        Assert.Equal("RDMAKV01"u8.ToArray(), page[..8]);
        Assert.True(RegionHeader.TryRead(page, out RegionHeader read));
        Assert.Equal(header, read);

        // The state word lies outside the checksum: it changes after publication.
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(RegionHeader.StateOffset), (ulong)RegionState.Retired);
        Assert.True(RegionHeader.TryRead(page, out read));
        Assert.Equal(header, read);
    }

    [Fact]
    public void RegionHeaderRejectsAnyFlippedByteTheChecksumCovers()
    {
        byte[] page = new byte[RegionHeader.Size];
        SampleHeader().Write(page);
        for (int i = 0; i < RegionHeader.ChecksumOffset + 8; i++)
        {
            byte[] copy = (byte[])page.Clone();
            copy[i] ^= 0x10;
            Assert.False(RegionHeader.TryRead(copy, out _), $"a flip at byte {i} went unnoticed");
        }
    }

    [Fact]
    public void RegionHeaderRejectsWrongMagicAndWrongVersionEvenWithAValidChecksum()
    {
        byte[] page = new byte[RegionHeader.Size];
        SampleHeader().Write(page);

        byte[] badMagic = (byte[])page.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(badMagic, RegionHeader.Magic ^ 0xFF);
        Reseal(badMagic);
        Assert.False(RegionHeader.TryRead(badMagic, out _));

        byte[] badVersion = (byte[])page.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badVersion.AsSpan(8), RegionHeader.FormatVersion + 1);
        Reseal(badVersion);
        Assert.False(RegionHeader.TryRead(badVersion, out _));

        Assert.False(RegionHeader.TryRead(page.AsSpan(0, RegionHeader.StateOffset), out _));
        Assert.True(RegionHeader.TryRead(page, out _)); // the original is fine: the rejections were the edits
    }

    static void Reseal(byte[] page) =>
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(RegionHeader.ChecksumOffset), XxHash3.HashToUInt64(page.AsSpan(0, RegionHeader.ChecksumOffset)));

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(3L)]
    [InlineData(1000L)]
    public void RegionHeaderPlanRejectsBucketCountsThatAreNotPowersOfTwo(long buckets) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RegionHeader.Plan(0, 1, 1, buckets, 0, 4096));

    [Fact]
    public void BucketIsOneCacheLineOfVersionAndSevenEntrys()
    {
        Assert.Equal(64, Bucket.Size);
        Assert.Equal(7, Bucket.EntryCount);
        Assert.Equal(8, IndexEntry.Size);
        Assert.Equal(Bucket.Size, IndexEntry.Size * (Bucket.EntryCount + 1));
        Assert.Equal(0, Bucket.VersionOffset);
        Assert.Equal(8, Bucket.EntryOffset(0));
        Assert.Equal(Bucket.Size - IndexEntry.Size, Bucket.EntryOffset(Bucket.EntryCount - 1));
        Assert.Equal(0, RegionHeader.IndexOffset % Bucket.Size);
        Assert.True(RegionHeader.StateOffset >= RegionHeader.ChecksumOffset + 8);
    }
}
