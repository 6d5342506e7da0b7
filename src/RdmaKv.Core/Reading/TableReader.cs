using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>What a one-sided lookup concluded.</summary>
public enum LookupResult
{
    /// <summary>The value is in <see cref="ReaderContext.LastValue"/>.</summary>
    Found,
    NotFound,
    /// <summary>The region is retired or unreadable: refresh the view and look again.</summary>
    Stale,
    /// <summary>Validation kept failing within the retry bound: ask the node with a GET message.</summary>
    Fallback,
}

/// <summary>
/// The one-sided lookup (DESIGN.md section 4), written once for every <see cref="IRegionAccess"/>.
/// Nothing a reader sees is trusted: extents are checked for bounds, key, checksum and the
/// superseded bit; an absent key is confirmed by re-reading both bucket versions.
/// </summary>
public static class TableReader
{
    public const int MaxAttempts = 8;
    const int CheckStateAfter = 2;

    public static LookupResult Lookup<TAccess>(
        ref TAccess access, in RegionHeader header, ReadOnlySpan<byte> key, KeyHash hash,
        LocationCache? cache, ReaderContext context)
        where TAccess : struct, IRegionAccess
    {
        context.Lookups++;
        if (cache is not null && cache.TryGet(hash, header.Generation, out IndexEntry cached, out ulong sequence))
        {
            ExtentCheck check = ReadExtent(ref access, header, cached, key, context);
            if (check == ExtentCheck.Valid && context.LastSequence == sequence)
            {
                context.CacheHits++;
                return LookupResult.Found;
            }
            if (check == ExtentCheck.Expired && context.LastSequence == sequence)
            {
                context.CacheHits++;
                return LookupResult.NotFound; // the key's current extent, past its expiry
            }
            cache.Remove(hash);
        }

        ulong mask = header.BucketMask;
        ulong b1 = hash.PrimaryBucket(mask);
        ulong b2 = KeyHash.AlternateBucket(b1, hash.Fingerprint, mask);
        long o1 = RegionHeader.IndexOffset + (long)b1 * Bucket.Size;
        long o2 = RegionHeader.IndexOffset + (long)b2 * Bucket.Size;
        Span<byte> buckets = stackalloc byte[2 * Bucket.Size];
        Span<byte> again = stackalloc byte[2 * Bucket.Size];

        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (attempt > 0) context.Retries++;
            if (attempt >= CheckStateAfter && IsRetired(ref access)) return LookupResult.Stale;
            if (!access.ReadPair(o1, buckets[..Bucket.Size], o2, buckets[Bucket.Size..])) return LookupResult.Stale;

            bool unsure = false;
            for (int i = 0; i < 2 * Bucket.EntryCount; i++)
            {
                int at = (i < Bucket.EntryCount ? 0 : Bucket.Size) + Bucket.EntryOffset(i % Bucket.EntryCount);
                var entry = new IndexEntry(BinaryPrimitives.ReadUInt64LittleEndian(buckets[at..]));
                if (entry.IsEmpty || entry.Fingerprint != hash.Fingerprint) continue;
                switch (ReadExtent(ref access, header, entry, key, context))
                {
                    case ExtentCheck.Valid:
                        cache?.Set(hash, header.Generation, entry, context.LastSequence);
                        return LookupResult.Found;
                    case ExtentCheck.Expired:
                        return LookupResult.NotFound; // intact and current, but past its expiry: absent until the node removes it
                    case ExtentCheck.KeyMismatch:
                        continue;
                    default:
                        unsure = true;
                        break;
                }
            }
            if (unsure) continue;

            // No valid match: absent only if neither bucket changed while we looked. A cuckoo move
            // copies an entry to its other bucket before clearing it, so a key that was present all
            // along shows in one of the two reads or changes a version between them.
            ulong v1 = BinaryPrimitives.ReadUInt64LittleEndian(buckets);
            ulong v2 = BinaryPrimitives.ReadUInt64LittleEndian(buckets[Bucket.Size..]);
            if (((v1 | v2) & 1) != 0) continue;
            if (!access.ReadPair(o1, again[..Bucket.Size], o2, again[Bucket.Size..])) return LookupResult.Stale;
            if (again.SequenceEqual(buckets)) return LookupResult.NotFound;
        }
        context.Fallbacks++;
        return IsRetired(ref access) ? LookupResult.Stale : LookupResult.Fallback;
    }

    /// <summary>
    /// Batch readers (many keys' READs in flight at once) validate what they fetched with this:
    /// true when <paramref name="extent"/> is an intact, current extent of <paramref name="key"/>,
    /// with <paramref name="value"/> its value within <paramref name="extent"/>, or, when
    /// <paramref name="expired"/>, one whose expiry has passed (the key is absent).
    /// </summary>
    public static bool TryAcceptExtent(ReadOnlySpan<byte> extent, ReadOnlySpan<byte> key, ReaderContext context, out Range value, out bool expired)
    {
        value = default;
        expired = false;
        if (extent.Length < ExtentHeader.Size) return false;
        ExtentCheck check = Validate(extent, key, context);
        if (check == ExtentCheck.Expired)
        {
            expired = true;
            return true;
        }
        if (check != ExtentCheck.Valid) return false;
        value = new Range(ExtentHeader.Size + key.Length, ExtentHeader.Size + key.Length + context.ValueLength);
        return true;
    }

    /// <summary>The entries of a two-bucket read whose fingerprint matches <paramref name="hash"/>; returns how many.</summary>
    public static int MatchingEntries(ReadOnlySpan<byte> bucketPair, KeyHash hash, Span<IndexEntry> into)
    {
        int found = 0;
        for (int i = 0; i < 2 * Bucket.EntryCount && found < into.Length; i++)
        {
            int at = (i < Bucket.EntryCount ? 0 : Bucket.Size) + Bucket.EntryOffset(i % Bucket.EntryCount);
            var entry = new IndexEntry(BinaryPrimitives.ReadUInt64LittleEndian(bucketPair[at..]));
            if (!entry.IsEmpty && entry.Fingerprint == hash.Fingerprint) into[found++] = entry;
        }
        return found;
    }

    /// <summary>Where the two candidate buckets of <paramref name="hash"/> lie in a region.</summary>
    public static (long First, long Second) BucketOffsets(in RegionHeader header, KeyHash hash)
    {
        ulong mask = header.BucketMask;
        ulong b1 = hash.PrimaryBucket(mask);
        ulong b2 = KeyHash.AlternateBucket(b1, hash.Fingerprint, mask);
        return (RegionHeader.IndexOffset + (long)b1 * Bucket.Size, RegionHeader.IndexOffset + (long)b2 * Bucket.Size);
    }

    static bool IsRetired<TAccess>(ref TAccess access) where TAccess : struct, IRegionAccess
    {
        Span<byte> state = stackalloc byte[8];
        return !access.Read(RegionHeader.StateOffset, state)
            || BinaryPrimitives.ReadUInt64LittleEndian(state) != (ulong)RegionState.Active;
    }

    enum ExtentCheck { Valid, Expired, KeyMismatch, Corrupt, Superseded, Unreadable }

    static ExtentCheck ReadExtent<TAccess>(ref TAccess access, in RegionHeader header, IndexEntry entry, ReadOnlySpan<byte> key, ReaderContext context)
        where TAccess : struct, IRegionAccess
    {
        long offset = entry.ExtentOffset;
        int length = entry.ExtentLength;
        if (entry.IsLarge)
        {
            // The entry cannot hold the length: read the header first, then the whole extent.
            Span<byte> head = context.Scratch(ExtentHeader.Size);
            if (offset < header.ExtentOffset || offset + ExtentHeader.Size > header.RegionSize) return ExtentCheck.Corrupt;
            if (!access.Read(offset, head)) return ExtentCheck.Unreadable;
            uint k = BinaryPrimitives.ReadUInt32LittleEndian(head[ExtentHeader.KeyLengthOffset..]);
            uint v = BinaryPrimitives.ReadUInt32LittleEndian(head[ExtentHeader.ValueLengthOffset..]);
            if (k > Limits.MaxKeyLength || v > Limits.MaxValueLength) return Fail(context, ExtentCheck.Corrupt);
            length = ExtentHeader.ExtentLength((int)k, (int)v);
        }
        if (offset < header.ExtentOffset || length <= 0 || offset + length > header.RegionSize) return ExtentCheck.Corrupt;
        Span<byte> extent = context.Scratch(length);
        if (!access.Read(offset, extent)) return ExtentCheck.Unreadable;
        return Validate(extent, key, context);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ExtentCheck Validate(ReadOnlySpan<byte> extent, ReadOnlySpan<byte> key, ReaderContext context)
    {
        uint keyLength = BinaryPrimitives.ReadUInt32LittleEndian(extent[ExtentHeader.KeyLengthOffset..]);
        uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(extent[ExtentHeader.ValueLengthOffset..]);
        // Lengths and checksum before the key: damage to this key's extent (its key bytes or key
        // length included) is corruption to retry and fall back on, not another key's extent.
        if (keyLength > Limits.MaxKeyLength || valueLength > Limits.MaxValueLength
            || ExtentHeader.Size + keyLength + valueLength > (uint)extent.Length)
            return Fail(context, ExtentCheck.Corrupt);
        int end = ExtentHeader.Size + (int)keyLength + (int)valueLength;
        if (XxHash3.HashToUInt64(extent[ExtentHeader.ChecksumStart..end]) != BinaryPrimitives.ReadUInt64LittleEndian(extent[ExtentHeader.ChecksumOffset..]))
            return Fail(context, ExtentCheck.Corrupt);
        if (keyLength != (uint)key.Length || !extent.Slice(ExtentHeader.Size, key.Length).SequenceEqual(key))
            return ExtentCheck.KeyMismatch;
        if ((BinaryPrimitives.ReadUInt64LittleEndian(extent) & ExtentHeader.SupersededFlag) != 0)
        {
            context.SupersededSeen++;
            return ExtentCheck.Superseded;
        }
        context.LastSequence = BinaryPrimitives.ReadUInt64LittleEndian(extent[ExtentHeader.SequenceOffset..]);
        long expiresAt = BinaryPrimitives.ReadInt64LittleEndian(extent[ExtentHeader.ExpiresAtOffset..]);
        if (Expiry.HasPassed(expiresAt)) return ExtentCheck.Expired; // the clock is read only for extents that expire
        context.SetValue(ExtentHeader.Size + key.Length, (int)valueLength);
        return ExtentCheck.Valid;
    }

    static ExtentCheck Fail(ReaderContext context, ExtentCheck check)
    {
        context.ChecksumFailures++;
        return check;
    }
}
