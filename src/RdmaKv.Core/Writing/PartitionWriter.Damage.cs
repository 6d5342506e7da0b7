using System.IO.Hashing;

namespace RdmaKv.Core;

/// <summary>
/// The writer trusts nothing it reads back from the region either: region memory is a file that
/// the node's user (or a memory fault) can change. Every extent an entry names is checked against
/// the extent area before the writer reads or releases it, and one a fallback GET would serve is
/// checked whole (its checksum), so a damaged value is answered from the store and rewritten.
/// </summary>
public sealed unsafe partial class PartitionWriter
{
    long _damaged;

    /// <summary>Damaged extents found so far (answered from the store and rewritten, or left unused).</summary>
    public long DamagedExtents => _damaged;

    /// <summary>
    /// True when the resident <paramref name="entry"/> names an extent inside the extent area whose
    /// lengths are within the limits and, for an entry that carries its length, agree with it.
    /// </summary>
    static bool InBounds(Region region, IndexEntry entry, out int keyLength, out int length)
    {
        keyLength = length = 0;
        long offset = entry.ExtentOffset;
        if (offset < region.Header.ExtentOffset || offset > region.Header.RegionSize - ExtentHeader.Size) return false;
        ref ExtentHeader e = ref region.ExtentAt(offset);
        uint k = e.KeyLength, v = e.ValueLength;
        if (k is 0 or > Limits.MaxKeyLength || v > Limits.MaxValueLength) return false;
        length = ExtentHeader.ExtentLength((int)k, (int)v);
        keyLength = (int)k;
        if (offset + length > region.Header.RegionSize) return false;
        return entry.IsLarge ? length >= ExtentUnits.Bytes(IndexEntry.LargeUnits) : length == entry.ExtentLength;
    }

    /// <summary>True when the extent's checksum matches its bytes (call after <see cref="InBounds"/>).</summary>
    static bool Intact(Region region, long offset, int keyLength)
    {
        ref ExtentHeader e = ref region.ExtentAt(offset);
        int used = ExtentHeader.Size + keyLength + (int)e.ValueLength;
        return XxHash3.HashToUInt64(region.Bytes(offset + ExtentHeader.ChecksumStart, used - ExtentHeader.ChecksumStart)) == e.Checksum;
    }

    /// <summary>
    /// Rewrites <paramref name="key"/> with <paramref name="value"/> (the store's copy) after a
    /// fallback GET found its extent damaged. The damaged extent is superseded and never reused.
    /// </summary>
    public StoreStatus Repair(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never)
    {
        _damaged++;
        return Put(key, value, expiresAt);
    }
}
