using System.Diagnostics;

namespace RdmaKv.Core;

/// <summary>Where a key's value is, as far as the region knows.</summary>
public enum Residence
{
    /// <summary>In the region.</summary>
    Resident,
    /// <summary>Not in the region; a not-resident entry looks like the key's, so the store may hold it.</summary>
    MaybeCold,
    Absent,
    /// <summary>The key's extent is in the region but damaged (checksum): the store has the value.</summary>
    Damaged,
}

/// <summary>
/// The cold tier: once a region is at its budget, values of cold keys leave it. Their entries stay,
/// marked not resident, and a GET for them goes to the node, which reads the store.
/// </summary>
/// <remarks>
/// The node never sees one-sided reads, so recency cannot come from them. The policy is CLOCK over
/// what the node does see: a reference bit per extent (per 64-byte unit of the extent area) is set
/// when a put writes the extent or a fallback GET promotes a value back into the region. The hand
/// sweeps the index; a resident entry whose bit is set loses the bit, one whose bit is clear is
/// evicted. A hot key that readers hit one-sided is evicted at most once per two sweeps, and its
/// next GET falls back, is answered from the store and brings it back (promotion).
/// </remarks>
public sealed unsafe partial class PartitionWriter
{
    ulong[] _referenced;
    long _hand;
    long _evictions;
    long _promotions;

    /// <summary>Keys whose values are only in the store.</summary>
    public long ColdCount => _coldCount;

    /// <summary>
    /// Brings a cold key's value (just read from the store) back into the region, evicting others
    /// if the region is at its budget. False when the key is not cold here or no room can be made.
    /// </summary>
    public bool Promote(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never)
    {
        if (_options.ColdTier is null || StoreStatusText.Validate(key.Length, value.Length) != StoreStatus.Ok) return false;
        FreeRetired();
        var hash = KeyHash.Compute(key, _options.HashSeed);
        int length = ExtentHeader.ExtentLength(key.Length, value.Length);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            if (AtBudget) EvictAhead(length);
            Region region = _region;
            // The caller found the key in the store, so the one cold look-alike is its entry.
            if (Find(region, key, hash, out ulong bucket, out int index, out _) != Match.Cold) return false;
            if (!_allocator.TryAllocate(length, out long offset))
            {
                if (!(AtBudget ? MakeRoom(length) : Grow(length, moreBuckets: false))) return false;
                continue;
            }
            ExtentHeader.Write(region.Bytes(offset, length), key, value, ++_sequence, expiresAt);
            MarkReferenced(region, offset);
            region.PublishEntry(bucket, index, IndexEntry.Create(hash.Fingerprint, offset, length));
            _coldCount--;
            _promotions++;
            return true;
        }
        return false;
    }

    /// <summary>True when the extent area cannot grow any more at the current index size.</summary>
    bool AtBudget
    {
        get
        {
            long room = _options.MaxRegionBytes - RegionHeader.IndexOffset - _region.Header.BucketCount * Bucket.Size;
            return _region.Header.ExtentSize >= ExtentUnits.RoundDown(room);
        }
    }

    /// <summary>Evicts (a few at most) until live data plus this extent leave the headroom free for quarantined extents.</summary>
    void EvictAhead(int length)
    {
        long limit = (long)(_allocator.Capacity * (_options.MaxExtentFill - _options.EvictionHeadroom));
        int classLength = ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(length));
        for (int n = 0; n < 8 && _allocator.AllocatedBytes + classLength > limit; n++)
            if (!EvictOne()) return;
    }

    /// <summary>
    /// Makes an extent of <paramref name="length"/> allocatable in a region at its budget: evicts,
    /// waits out the quarantine of what it evicted, and compacts when free space is in other size
    /// classes. False when the value should stay cold instead (too large, or nothing to evict).
    /// </summary>
    bool MakeRoom(int length)
    {
        int classLength = ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(length));
        if (classLength > _allocator.Capacity / 4) return false;
        long limit = (long)(_allocator.Capacity * (_options.MaxExtentFill - _options.EvictionHeadroom));
        EvictDownTo(limit - classLength);
        long deadline = Stopwatch.GetTimestamp() + (long)((_options.QuarantineGrace.TotalSeconds * 2 + 0.005) * Stopwatch.Frequency);
        while (!_allocator.CanAllocate(length) && _allocator.QuarantinedBytes >= classLength && Stopwatch.GetTimestamp() < deadline)
            Thread.Sleep(1);
        return _allocator.CanAllocate(length) || Grow(length, moreBuckets: false);
    }

    bool EvictDownTo(long target)
    {
        while (_allocator.AllocatedBytes > target)
            if (!EvictOne()) return false;
        return true;
    }

    /// <summary>One step of CLOCK: evicts the next resident value whose reference bit is clear.</summary>
    bool EvictOne()
    {
        Region region = _region;
        long positions = region.Header.BucketCount * Bucket.EntryCount;
        for (long step = 0; step <= 2 * positions; step++)
        {
            long position = _hand;
            _hand = position + 1 == positions ? 0 : position + 1;
            IndexEntry entry = region.ReadEntry((ulong)(position / Bucket.EntryCount), (int)(position % Bucket.EntryCount));
            if (!entry.IsResident || !InBounds(region, entry, out int keyLength, out _) || TestAndClearReferenced(region, entry.ExtentOffset)) continue;
            // A damaged key would give its cold entry the wrong hash: leave it for a fallback GET to repair.
            if (!Intact(region, entry.ExtentOffset, keyLength)) continue;
            var hash = KeyHash.Compute(region.Bytes(entry.ExtentOffset + ExtentHeader.Size, keyLength), _options.HashSeed);
            if (HasColdTwin(region, hash)) continue; // two look-alike cold entries could not be told apart
            region.PublishEntry((ulong)(position / Bucket.EntryCount), (int)(position % Bucket.EntryCount), IndexEntry.CreateNotResident(hash.Fingerprint, hash.Value));
            Retire(region, entry);
            _coldCount++;
            _evictions++;
            return true;
        }
        return false;
    }

    static ulong[] NewReferenceBits(Region region) => new ulong[(ExtentUnits.Count(region.Header.ExtentSize) + 63) / 64]; // a bit per unit, 64 to a word

    void MarkReferenced(Region region, long offset) => SetReferenced(_referenced, region, offset);

    static void SetReferenced(ulong[] bits, Region region, long offset)
    {
        long unit = ExtentUnits.Count(offset - region.Header.ExtentOffset);
        bits[unit >> 6] |= 1UL << (int)(unit & 63);
    }

    bool IsReferenced(Region region, long offset)
    {
        long unit = ExtentUnits.Count(offset - region.Header.ExtentOffset);
        return (_referenced[unit >> 6] & (1UL << (int)(unit & 63))) != 0;
    }

    bool TestAndClearReferenced(Region region, long offset)
    {
        long unit = ExtentUnits.Count(offset - region.Header.ExtentOffset);
        ulong bit = 1UL << (int)(unit & 63);
        bool set = (_referenced[unit >> 6] & bit) != 0;
        _referenced[unit >> 6] &= ~bit;
        return set;
    }
}
