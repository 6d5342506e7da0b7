using System.Diagnostics;

namespace RdmaKv.Core;

/// <summary>
/// Applies puts and deletes to one partition's region and grows it online. One writer at a time:
/// callers serialize (the node holds a lock per partition). Readers never take part: they
/// validate what they read (see <see cref="TableReader"/>).
/// </summary>
/// <remarks>
/// A put writes the whole extent with its checksum, publishes the slot (bucket version odd, one
/// atomic store, version even), then marks the old extent superseded and quarantines it. So once
/// a put returns, no reader can accept the old value: the old slot is gone and the old extent
/// says superseded.
/// </remarks>
public sealed unsafe class PartitionWriter : IDisposable
{
    readonly PartitionWriterOptions _options;
    readonly IRegionMemoryFactory _memory;
    readonly List<(Region Region, long Due)> _retired = [];
    Region _region;
    ExtentAllocator _allocator;
    ulong _sequence;
    long _grows;
    long _cuckooMoves;

    public PartitionWriter(PartitionWriterOptions options, IRegionMemoryFactory memory)
    {
        _options = options;
        _memory = memory;
        (_region, _allocator) = Build(1, options.InitialBucketCount, options.InitialExtentBytes)
            ?? throw new ArgumentException("the first region does not fit in MaxRegionBytes", nameof(options));
        _region.State = RegionState.Active;
    }

    /// <summary>The current region; it changes when the partition grows.</summary>
    public Region Region => Volatile.Read(ref _region);

    /// <summary>Raised on the writer's thread after a new region generation is published.</summary>
    public event Action<Region>? RegionPublished;

    public long Count { get; private set; }
    public ulong LastSequence => _sequence;

    public PartitionStats Stats =>
        new(_options.Partition, _region.Header.Generation, _region.Header.BucketCount, Count,
            _region.Length, _allocator.Stats, _grows, _cuckooMoves);

    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, value.Length);
        if (valid != StoreStatus.Ok) return valid;
        FreeRetired();
        var hash = KeyHash.Compute(key, _options.HashSeed);
        int length = ExtentHeader.ExtentLength(key.Length, value.Length);
        bool indexCanGrow = true;
        while (true)
        {
            Region region = _region;
            bool exists = Find(region, key, hash, out ulong bucket, out int index, out Slot old);
            if (!exists && indexCanGrow && NeedsMoreBuckets(Count + 1))
            {
                // Past the load factor: double the index now; at the budget's edge, fill it further.
                indexCanGrow = Grow(length, moreBuckets: true);
                continue;
            }
            if (!_allocator.TryAllocate(length, out long offset))
            {
                if (!Grow(length, moreBuckets: false)) return StoreStatus.RegionFull;
                continue;
            }
            ExtentHeader.Write(region.Bytes(offset, length), key, value, ++_sequence);
            var slot = Slot.Create(hash.Fingerprint, offset, length);
            if (exists)
            {
                region.PublishSlot(bucket, index, slot);
                Retire(region, old);
                return StoreStatus.Ok;
            }
            if (CuckooInsert.TryInsert(region, hash.PrimaryBucket(region.Header.BucketMask), slot, _options.CuckooSearchLimit, out int moves))
            {
                _cuckooMoves += moves;
                Count++;
                return StoreStatus.Ok;
            }
            _allocator.Release(offset, length); // never published: no reader can hold it
            if (!Grow(length, moreBuckets: true)) return StoreStatus.RegionFull;
        }
    }

    public StoreStatus Delete(ReadOnlySpan<byte> key)
    {
        if (key.Length == 0) return StoreStatus.KeyEmpty;
        if (key.Length > Limits.MaxKeyLength) return StoreStatus.KeyTooLong;
        FreeRetired();
        var hash = KeyHash.Compute(key, _options.HashSeed);
        if (!Find(_region, key, hash, out ulong bucket, out int index, out Slot old)) return StoreStatus.NotFound;
        _region.PublishSlot(bucket, index, default);
        Retire(_region, old);
        Count--;
        _sequence++;
        return StoreStatus.Ok;
    }

    /// <summary>
    /// The writer's own lookup (for fallback GETs). The span points into the region and is valid
    /// only until the next put, delete or growth: copy it before releasing the writer.
    /// </summary>
    public bool TryGetValue(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (key.Length == 0 || key.Length > Limits.MaxKeyLength) return false;
        var hash = KeyHash.Compute(key, _options.HashSeed);
        if (!Find(_region, key, hash, out _, out _, out Slot slot)) return false;
        ref ExtentHeader e = ref _region.ExtentAt(slot.ExtentOffset);
        value = _region.Bytes(slot.ExtentOffset + ExtentHeader.Size + e.KeyLength, (int)e.ValueLength);
        return true;
    }

    /// <summary>Forces a new generation (same size or larger), as growth does; for tests and operators.</summary>
    public bool Grow() => Grow(0, moreBuckets: false);

    bool NeedsMoreBuckets(long count) => count > _options.MaxLoadFactor * _region.Header.BucketCount * Bucket.SlotCount;

    static bool Find(Region region, ReadOnlySpan<byte> key, KeyHash hash, out ulong bucket, out int index, out Slot slot)
    {
        ulong mask = region.Header.BucketMask;
        bucket = hash.PrimaryBucket(mask);
        if (FindIn(region, bucket, key, hash.Fingerprint, out index, out slot)) return true;
        bucket = KeyHash.AlternateBucket(bucket, hash.Fingerprint, mask);
        return FindIn(region, bucket, key, hash.Fingerprint, out index, out slot);
    }

    static bool FindIn(Region region, ulong bucket, ReadOnlySpan<byte> key, ushort fingerprint, out int index, out Slot slot)
    {
        for (index = 0; index < Bucket.SlotCount; index++)
        {
            slot = region.ReadSlot(bucket, index);
            if (slot.IsEmpty || slot.Fingerprint != fingerprint) continue;
            ref ExtentHeader e = ref region.ExtentAt(slot.ExtentOffset);
            if (e.KeyLength == key.Length && region.Bytes(slot.ExtentOffset + ExtentHeader.Size, key.Length).SequenceEqual(key))
                return true;
        }
        slot = default;
        return false;
    }

    void Retire(Region region, Slot old)
    {
        region.Supersede(old.ExtentOffset);
        _allocator.Release(old.ExtentOffset, ExtentLengthAt(region, old.ExtentOffset));
    }

    static int ExtentLengthAt(Region region, long offset)
    {
        ref ExtentHeader e = ref region.ExtentAt(offset);
        return ExtentHeader.ExtentLength((int)e.KeyLength, (int)e.ValueLength);
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
            long extent = Math.Min(Math.Max(old.Header.ExtentSize, needed * 2), room) & ~63L;
            if (needed > extent * _options.MaxExtentFill) return false;
            var built = Build(old.Header.Generation + 1, buckets, extent);
            if (built is null) return false;
            var (next, allocator) = built.Value;
            if (CopyLive(old, next, allocator))
            {
                Publish(old, next, allocator);
                return true;
            }
            next.Dispose();
            buckets *= 2;
        }
    }

    bool CopyLive(Region from, Region to, ExtentAllocator allocator)
    {
        for (ulong b = 0; b < (ulong)from.Header.BucketCount; b++)
        {
            for (int i = 0; i < Bucket.SlotCount; i++)
            {
                Slot slot = from.ReadSlot(b, i);
                if (slot.IsEmpty) continue;
                int length = ExtentLengthAt(from, slot.ExtentOffset);
                if (!allocator.TryAllocate(length, out long offset)) return false;
                from.Bytes(slot.ExtentOffset, length).CopyTo(to.Bytes(offset, length));
                var moved = Slot.Create(slot.Fingerprint, offset, length);
                ref ExtentHeader e = ref to.ExtentAt(offset);
                var hash = KeyHash.Compute(to.Bytes(offset + ExtentHeader.Size, (int)e.KeyLength), _options.HashSeed);
                if (!CuckooInsert.TryInsert(to, hash.PrimaryBucket(to.Header.BucketMask), moved, _options.CuckooSearchLimit, out _))
                    return false;
            }
        }
        return true;
    }

    void Publish(Region old, Region next, ExtentAllocator allocator)
    {
        next.State = RegionState.Active;
        Volatile.Write(ref _region, next);
        _allocator = allocator;
        _grows++;
        RegionPublished?.Invoke(next);

        RetireRegion(old);
        long grace = _options.RetiredRegionGrace == TimeSpan.MaxValue
            ? long.MaxValue
            : (long)(_options.RetiredRegionGrace.TotalSeconds * Stopwatch.Frequency);
        _retired.Add((old, grace == long.MaxValue ? long.MaxValue : Stopwatch.GetTimestamp() + grace));
    }

    /// <summary>State retired, every bucket version odd, every live extent superseded: readers accept nothing more here.</summary>
    static void RetireRegion(Region region)
    {
        region.State = RegionState.Retired;
        for (ulong b = 0; b < (ulong)region.Header.BucketCount; b++)
        {
            region.FreezeBucket(b);
            for (int i = 0; i < Bucket.SlotCount; i++)
            {
                Slot slot = region.ReadSlot(b, i);
                if (!slot.IsEmpty) region.Supersede(slot.ExtentOffset);
            }
        }
    }

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

    public void Dispose()
    {
        foreach (var (region, _) in _retired) region.Dispose();
        _retired.Clear();
        // Clients may keep their own mapping of this region: retire it so they refresh (and learn
        // the node has gone) instead of reading a stopped node's values.
        RetireRegion(_region);
        _region.Dispose();
    }
}
