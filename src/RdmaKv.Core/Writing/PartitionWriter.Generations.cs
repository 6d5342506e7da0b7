using System.Diagnostics;

namespace RdmaKv.Core;

/// <summary>
/// Region generations: building the next one (larger, or the same size and compacted), copying
/// every live entry into it, publishing it, and retiring the old one until its grace is over.
/// </summary>
public sealed unsafe partial class PartitionWriter
{
    /// <summary>Forces a new generation (same size or larger), as growth does; for tests and operators.</summary>
    public bool Grow() => Grow(0, moreBuckets: false);

    /// <summary>What one value of this size takes in the extent area (its allocation class).</summary>
    public static long ExtentBytes(int keyLength, int valueLength) =>
        ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(ExtentHeader.ExtentLength(keyLength, valueLength)));

    /// <summary>
    /// Grows the region once, before a bulk load (a node rebuilding its regions at start) of about
    /// <paramref name="keys"/> keys whose extents take <paramref name="extentBytes"/>, instead of
    /// doubling index and extent area again and again during it (each time copying everything).
    /// Stays within the budget: what does not fit grows or goes cold as usual. False when the
    /// region already has the room.
    /// </summary>
    public bool Reserve(long keys, long extentBytes)
    {
        Region old = _region;
        long buckets = old.Header.BucketCount;
        while (keys > _options.MaxLoadFactor * buckets * Bucket.EntryCount) buckets *= 2;
        long room() => _options.MaxRegionBytes - RegionHeader.IndexOffset - buckets * Bucket.Size;
        while (buckets > old.Header.BucketCount && room() < old.Header.ExtentSize) buckets /= 2;
        long extent = ExtentUnits.RoundDown(Math.Min(Math.Max(old.Header.ExtentSize, (long)(extentBytes / _options.MaxExtentFill) + (64 << 10)), room()));
        if (buckets == old.Header.BucketCount && extent <= old.Header.ExtentSize) return false;
        return Replace(old, buckets, Math.Max(extent, old.Header.ExtentSize)) == true;
    }

    (Region, ExtentAllocator)? Build(ulong generation, long buckets, long extentBytes)
    {
        var header = RegionHeader.Plan(_options.Partition, _options.PartitionCount, generation, buckets, _options.HashSeed, extentBytes);
        if (header.RegionSize > _options.MaxRegionBytes) return null;
        var region = new Region(_memory.Allocate(_options.Partition, generation, header.RegionSize), header);
        return (region, new ExtentAllocator(header.ExtentOffset, header.RegionSize, _options.QuarantineGrace));
    }

    /// <summary>
    /// Builds the next generation with every live entry copied (compacted), publishes it, then
    /// retires the old one: every bucket version left odd and every extent superseded, so a
    /// reader still on the old region rejects all it reads and refreshes its view.
    /// </summary>
    bool Grow(int pendingLength, bool moreBuckets)
    {
        Region old = _region;
        long buckets = old.Header.BucketCount * (moreBuckets || NeedsMoreBuckets(Count + 1) ? 2 : 1);
        long needed = _allocator.AllocatedBytes + ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(pendingLength));
        while (true)
        {
            long room = _options.MaxRegionBytes - RegionHeader.IndexOffset - buckets * Bucket.Size;
            long extent = ExtentUnits.RoundDown(Math.Min(Math.Max(old.Header.ExtentSize, needed * 2), room));
            if (needed > extent * _options.MaxExtentFill)
            {
                // With a cold tier, evict until the live values fit the smaller extent area of a
                // larger index; the new region then holds them with room to spare.
                long pending = needed - _allocator.AllocatedBytes;
                if (_options.ColdTier is null || extent <= 0 || !EvictDownTo((long)(extent * _options.MaxExtentFill * 0.8) - pending)) return false;
                needed = _allocator.AllocatedBytes + pending;
            }
            switch (Replace(old, buckets, extent))
            {
                case null: return false;
                case true: return true;
                default: buckets *= 2; break; // the entries did not fit the index: a larger one
            }
        }
    }

    /// <summary>
    /// Builds the next generation of this size, copies every live entry into it and publishes it.
    /// Null when the budget has no room for it, false when the entries did not fit it.
    /// </summary>
    bool? Replace(Region old, long buckets, long extentBytes)
    {
        var built = Build(old.Header.Generation + 1, buckets, extentBytes);
        if (built is null) return null;
        var (next, allocator) = built.Value;
        ulong[] referenced = NewReferenceBits(next);
        if (!CopyLive(old, next, allocator, referenced))
        {
            next.Dispose();
            return false;
        }
        Publish(old, next, allocator, referenced);
        return true;
    }

    bool CopyLive(Region from, Region to, ExtentAllocator allocator, ulong[] referenced)
    {
        for (ulong b = 0; b < (ulong)from.Header.BucketCount; b++)
        {
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry entry = from.ReadEntry(b, i);
                if (entry.IsEmpty) continue;
                if (entry.NotResident)
                {
                    // No extent to move; the entry's hash bits give its primary bucket at any size up to 2^32 buckets.
                    if (!CuckooInsert.TryInsert(to, entry.HashBits & to.Header.BucketMask, entry, _options.CuckooSearchLimit, out _))
                        return false;
                    continue;
                }
                if (!InBounds(from, entry, out int keyLength, out int length))
                {
                    // Nothing of it can be trusted, not even its key: the store keeps the value.
                    _damaged++;
                    continue;
                }
                var hash = KeyHash.Compute(from.Bytes(entry.ExtentOffset + ExtentHeader.Size, keyLength), _options.HashSeed);
                if (hash.Fingerprint != entry.Fingerprint)
                {
                    _damaged++; // its key bytes are damaged
                    continue;
                }
                if (!allocator.TryAllocate(length, out long offset)) return false;
                if (IsReferenced(from, entry.ExtentOffset)) SetReferenced(referenced, to, offset);
                from.Bytes(entry.ExtentOffset, length).CopyTo(to.Bytes(offset, length));
                var moved = IndexEntry.Create(entry.Fingerprint, offset, length);
                if (!CuckooInsert.TryInsert(to, hash.PrimaryBucket(to.Header.BucketMask), moved, _options.CuckooSearchLimit, out _))
                    return false;
            }
        }
        return true;
    }

    void Publish(Region old, Region next, ExtentAllocator allocator, ulong[] referenced)
    {
        next.State = RegionState.Active;
        Volatile.Write(ref _region, next);
        _allocator = allocator;
        _referenced = referenced;
        _hand = 0;
        _grows++;
        RegionPublished?.Invoke(next);

        RetireRegion(old);
        long grace = _options.RetiredRegionGrace == TimeSpan.MaxValue
            ? long.MaxValue
            : (long)(_options.RetiredRegionGrace.TotalSeconds * Stopwatch.Frequency);
        _retired.Add((old, grace == long.MaxValue ? long.MaxValue : Stopwatch.GetTimestamp() + grace));
    }

    /// <summary>State retired, every bucket version odd, every live extent superseded: readers accept nothing more here.</summary>
    static void RetireRegion(Region region) => RegionRetirement.Retire(region.Base, region.Header);

    void FreeRetired()
    {
        if (_retired.Count == 0) return;
        long now = Stopwatch.GetTimestamp();
        _retired.RemoveAll(r =>
        {
            if (r.Due > now) return false;
            r.Region.Dispose();
            return true;
        });
    }
}
