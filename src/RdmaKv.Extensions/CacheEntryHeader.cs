using System.Buffers.Binary;

namespace RdmaKv.Extensions;

/// <summary>
/// The header <see cref="RdmaKvCache"/> puts in front of every value it stores: what the entry's
/// expiration options were, so that a reader can slide the entry along without knowing how it
/// was set. All numbers little-endian.
/// <code>
/// offset  size  field
///      0     1  version (1)
///      1     8  absolute expiry, Unix milliseconds UTC; 0 = none
///      9     8  sliding window, milliseconds; 0 = none
///     17     8  store expiry this copy was put with, Unix milliseconds UTC; 0 = none
///     25     …  the value, as the application gave it
/// </code>
/// The store expiry is the earlier of the absolute expiry and (time of the last write or refresh
/// + the sliding window): the node drops the entry then, and readers see it absent from that
/// instant (the store's expiry is absolute, millisecond precision). A read of a sliding entry puts
/// it again with a later store expiry (see <see cref="RdmaKvCache"/>).
/// </summary>
static class CacheEntryHeader
{
    public const byte Version = 1;
    public const int VersionOffset = 0;
    public const int AbsoluteOffset = 1;
    public const int SlidingOffset = 9;
    public const int StoreExpiryOffset = 17;
    public const int Size = 25;

    /// <summary>The largest value an entry holds: the store's value limit less this header.</summary>
    public const int MaxValueLength = RdmaKv.Core.Limits.MaxValueLength - Size;

    public static void Write(Span<byte> destination, long absoluteMs, long slidingMs, long storeExpiryMs)
    {
        destination[VersionOffset] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(destination[AbsoluteOffset..], absoluteMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[SlidingOffset..], slidingMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[StoreExpiryOffset..], storeExpiryMs);
    }

    /// <summary>False when <paramref name="stored"/> is not an entry this version wrote (too short, another version): the cache treats it as absent.</summary>
    public static bool TryRead(ReadOnlySpan<byte> stored, out long absoluteMs, out long slidingMs, out long storeExpiryMs)
    {
        if (stored.Length < Size || stored[VersionOffset] != Version)
        {
            absoluteMs = slidingMs = storeExpiryMs = 0;
            return false;
        }
        absoluteMs = BinaryPrimitives.ReadInt64LittleEndian(stored[AbsoluteOffset..]);
        slidingMs = BinaryPrimitives.ReadInt64LittleEndian(stored[SlidingOffset..]);
        storeExpiryMs = BinaryPrimitives.ReadInt64LittleEndian(stored[StoreExpiryOffset..]);
        return true;
    }

    public static void WriteStoreExpiry(Span<byte> stored, long storeExpiryMs) =>
        BinaryPrimitives.WriteInt64LittleEndian(stored[StoreExpiryOffset..], storeExpiryMs);
}
