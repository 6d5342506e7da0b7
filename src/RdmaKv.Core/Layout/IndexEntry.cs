using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>
/// One 8-byte index entry, stored with one atomic aligned store. Zero means empty; an occupied
/// entry is never zero because extents never start at offset 0 (the header page is there).
/// <code>
///  63                                  28  27  26         16 15              0
/// +--------------------------------------+---+-------------+-----------------+
/// | extent offset in 64-byte units (36)  |NR | units (11)  | fingerprint (16)|
/// +--------------------------------------+---+-------------+-----------------+
/// </code>
/// units is the extent's length in 64-byte units, 1..2046; 2047 means "large: read the extent
/// header first".
/// A not-resident entry (cold tier: the value lives only in the node's store) has no extent:
/// <code>
///  63                                32 31  28  27  26         16 15              0
/// +------------------------------------+------+---+-------------+-----------------+
/// | hash bits 0..31 (primary bucket)   |  0   | 1 |      0      | fingerprint (16)|
/// +------------------------------------+------+---+-------------+-----------------+
/// </code>
/// Its units are 0, so a reader that does not know the bit sees an impossible extent length,
/// never reads memory for it, and after its retries asks the node. The hash bits let the writer
/// place the entry when the index grows and tell apart keys that share a fingerprint.
/// </summary>
public readonly struct IndexEntry(ulong raw) : IEquatable<IndexEntry>
{
    public const int Size = 8;
    public const int LargeUnits = 2047;
    const int UnitsShift = 16;
    const int NotResidentBit = 27;
    const int OffsetShift = 28;

    public ulong Raw { get; } = raw;

    public bool IsEmpty => Raw == 0;
    public ushort Fingerprint => (ushort)Raw;
    public int Units => (int)((Raw >> UnitsShift) & 0x7FF);
    public bool IsLarge => Units == LargeUnits;
    public bool NotResident => ((Raw >> NotResidentBit) & 1) != 0;
    public long ExtentOffset => ExtentUnits.Bytes((long)(Raw >> OffsetShift));

    /// <summary>The extent's length in bytes as the entry records it (for a large extent, the header says the real one).</summary>
    public int ExtentLength => ExtentUnits.Bytes(Units);

    /// <summary>Bits 0..31 of the key's hash; meaningful only in a not-resident entry.</summary>
    public uint HashBits => (uint)(Raw >> 32);

    /// <summary>An occupied entry with an extent in the region.</summary>
    public bool IsResident => Raw != 0 && !NotResident;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IndexEntry Create(ushort fingerprint, long extentOffset, int extentLength)
    {
        int units = (int)ExtentUnits.Count(extentLength);
        if (units >= LargeUnits) units = LargeUnits;
        return new IndexEntry(fingerprint | ((ulong)units << UnitsShift) | ((ulong)ExtentUnits.Count(extentOffset) << OffsetShift));
    }

    /// <summary>An entry for a key whose value is not in the region (see the layout above).</summary>
    public static IndexEntry CreateNotResident(ushort fingerprint, ulong hash) =>
        new(fingerprint | (1UL << NotResidentBit) | (hash << 32));

    public bool Equals(IndexEntry other) => Raw == other.Raw;
    public override bool Equals(object? obj) => obj is IndexEntry s && Equals(s);
    public override int GetHashCode() => Raw.GetHashCode();
    public override string ToString() => IsEmpty ? "empty" : NotResident ? $"fp={Fingerprint:x4} not resident hash={HashBits:x8}" : $"fp={Fingerprint:x4} off={ExtentOffset} units={Units}";
}
