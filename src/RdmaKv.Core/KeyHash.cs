using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>
/// The one 64-bit hash of a key (XxHash3 with the cluster's seed) and what is derived from it.
/// <code>
///  63        48 47        32 31                           0
/// +------------+------------+------------------------------+
/// | partition  | fingerprint|        primary bucket        |
/// +------------+------------+------------------------------+
/// </code>
/// The secondary bucket is the primary XOR a mix of the fingerprint (partial-key cuckoo hashing),
/// so an entry's other bucket follows from its bucket and fingerprint alone.
/// </summary>
public readonly struct KeyHash(ulong value)
{
    public ulong Value { get; } = value;

    public static KeyHash Compute(ReadOnlySpan<byte> key, ulong seed) => new(XxHash3.HashToUInt64(key, (long)seed));

    public ushort Fingerprint => (ushort)(Value >> 32);

    /// <summary>The partition among <paramref name="partitionCount"/> (multiply-shift on the top 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Partition(int partitionCount) => (int)(((Value >> 48) * (ulong)partitionCount) >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong PrimaryBucket(ulong bucketMask) => Value & bucketMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong SecondaryBucket(ulong bucketMask) => AlternateBucket(PrimaryBucket(bucketMask), Fingerprint, bucketMask);

    /// <summary>The other candidate bucket of an entry in <paramref name="bucket"/> with <paramref name="fingerprint"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AlternateBucket(ulong bucket, ushort fingerprint, ulong bucketMask)
    {
        // The odd multiplier spreads the 16 fingerprint bits; "| 1" keeps the two buckets apart.
        ulong mix = ((fingerprint * 0x9E3779B97F4A7C15UL) >> 17) | 1;
        return (bucket ^ mix) & bucketMask;
    }
}
