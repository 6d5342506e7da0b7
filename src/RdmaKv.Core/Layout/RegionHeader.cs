using System.Buffers.Binary;
using System.IO.Hashing;

namespace RdmaKv.Core;

/// <summary>
/// The first page of a region. Fields are little-endian at fixed offsets; the checksum covers
/// bytes 0..88. The state word sits apart, at byte 128, because it changes after publication.
/// <code>
/// 0 magic "RDMAKV01" | 8 format version u32 | 12 partition u32 | 16 generation u64
/// 24 bucket count u64 | 32 entries per bucket u32 | 36 reserved u32 | 40 hash seed u64
/// 48 index offset u64 | 56 extent offset u64 | 64 extent size u64 | 72 region size u64
/// 80 partition count u32 | 84 reserved u32 | 88 checksum u64 | 128 state u64
/// </code>
/// </summary>
public readonly record struct RegionHeader(
    int Partition,
    int PartitionCount,
    ulong Generation,
    long BucketCount,
    ulong HashSeed,
    long ExtentOffset,
    long ExtentSize)
{
    public const int Size = 4096;
    public const ulong Magic = 0x3130_564B_414D_4452; // "RDMAKV01" read as little-endian
    /// <summary>2: extents carry an expiry (see <see cref="ExtentHeader"/>). Regions live in memory only and are rebuilt from the store at start, so no region of format 1 outlives its node; a reader of another format refuses the region.</summary>
    public const uint FormatVersion = 2;
    public const int IndexOffset = Size;
    public const int ChecksumOffset = 88;
    public const int StateOffset = 128;

    public long RegionSize => ExtentOffset + ExtentSize;
    public ulong BucketMask => (ulong)BucketCount - 1;

    /// <summary>The header of a region with this many buckets and this extent area.</summary>
    public static RegionHeader Plan(int partition, int partitionCount, ulong generation, long bucketCount, ulong seed, long extentSize)
    {
        if (bucketCount < 2 || (bucketCount & (bucketCount - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(bucketCount), bucketCount, "bucket count must be a power of two, at least 2");
        return new RegionHeader(partition, partitionCount, generation, bucketCount, seed,
            IndexOffset + bucketCount * Bucket.Size, ExtentUnits.RoundUp(extentSize));
    }

    public void Write(Span<byte> page)
    {
        page[..Size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(page, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(page[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(page[12..], (uint)Partition);
        BinaryPrimitives.WriteUInt64LittleEndian(page[16..], Generation);
        BinaryPrimitives.WriteUInt64LittleEndian(page[24..], (ulong)BucketCount);
        BinaryPrimitives.WriteUInt32LittleEndian(page[32..], Bucket.EntryCount);
        BinaryPrimitives.WriteUInt64LittleEndian(page[40..], HashSeed);
        BinaryPrimitives.WriteUInt64LittleEndian(page[48..], IndexOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(page[56..], (ulong)ExtentOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(page[64..], (ulong)ExtentSize);
        BinaryPrimitives.WriteUInt64LittleEndian(page[72..], (ulong)RegionSize);
        BinaryPrimitives.WriteUInt32LittleEndian(page[80..], (uint)PartitionCount);
        BinaryPrimitives.WriteUInt64LittleEndian(page[ChecksumOffset..], XxHash3.HashToUInt64(page[..ChecksumOffset]));
    }

    /// <summary>Parses and verifies a header page; false when the magic, version or checksum is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> page, out RegionHeader header)
    {
        header = default;
        if (page.Length < StateOffset + 8) return false;
        if (BinaryPrimitives.ReadUInt64LittleEndian(page) != Magic) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(page[8..]) != FormatVersion) return false;
        if (BinaryPrimitives.ReadUInt64LittleEndian(page[ChecksumOffset..]) != XxHash3.HashToUInt64(page[..ChecksumOffset])) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(page[32..]) != Bucket.EntryCount) return false;
        long buckets = (long)BinaryPrimitives.ReadUInt64LittleEndian(page[24..]);
        long extentOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(page[56..]);
        long extentSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(page[64..]);
        if (buckets < 2 || (buckets & (buckets - 1)) != 0 || extentOffset != IndexOffset + buckets * Bucket.Size) return false;
        header = new RegionHeader(
            (int)BinaryPrimitives.ReadUInt32LittleEndian(page[12..]),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(page[80..]),
            BinaryPrimitives.ReadUInt64LittleEndian(page[16..]),
            buckets,
            BinaryPrimitives.ReadUInt64LittleEndian(page[40..]),
            extentOffset,
            extentSize);
        return true;
    }
}

/// <summary>The lifecycle of a region, in its header's state word.</summary>
public enum RegionState : ulong
{
    Building = 0,
    Active = 1,
    /// <summary>A newer generation replaced this region; readers must refresh their view.</summary>
    Retired = 2,
}
