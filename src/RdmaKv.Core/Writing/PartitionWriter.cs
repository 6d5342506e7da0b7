namespace RdmaKv.Core;

/// <summary>
/// Applies puts and deletes to one partition's region and grows it online. One writer at a time:
/// callers serialize (the node holds a lock per partition). Readers never take part: they
/// validate what they read (see <see cref="TableReader"/>).
/// </summary>
/// <remarks>
/// A put writes the whole extent with its checksum, marks the old extent superseded and
/// quarantines it, then publishes the entry (bucket version odd, one atomic store, version even).
/// Between the two, readers of the old entry retry; once any reader can see the new value, none
/// can accept the old one.
/// </remarks>
public sealed unsafe partial class PartitionWriter : IDisposable
{
    readonly PartitionWriterOptions _options;
    readonly IRegionMemoryFactory _memory;
    readonly List<(Region Region, long Due)> _retired = [];
    Region _region;
    ExtentAllocator _allocator;
    ulong _sequence;
    long _grows;
    long _cuckooMoves;
    long _coldCount;

    public PartitionWriter(PartitionWriterOptions options, IRegionMemoryFactory memory)
    {
        _options = options;
        _memory = memory;
        (_region, _allocator) = Build(1, options.InitialBucketCount, options.InitialExtentBytes)
            ?? throw new ArgumentException("the first region does not fit in MaxRegionBytes", nameof(options));
        _region.State = RegionState.Active;
        _referenced = NewReferenceBits(_region);
    }

    /// <summary>The current region; it changes when the partition grows.</summary>
    public Region Region => Volatile.Read(ref _region);

    /// <summary>Raised on the writer's thread after a new region generation is published.</summary>
    public event Action<Region>? RegionPublished;

    public long Count { get; private set; }
    public ulong LastSequence => _sequence;

    public PartitionStats Stats =>
        new(_options.Partition, _region.Header.Generation, _region.Header.BucketCount, Count,
            _region.Length, _allocator.Stats, _grows, _cuckooMoves, _coldCount, _evictions, _promotions);

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/>. With a cold tier, a region at
    /// its budget evicts cold values to make room, and a value that still does not fit is kept
    /// only in the store (its entry marked not resident).
    /// </summary>
    public StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never) => Put(key, Hash(key), value, expiresAt, evict: true);

    /// <summary>A put whose key the caller has hashed already with this writer's seed (the node hashes once to pick the partition).</summary>
    public StoreStatus Put(ReadOnlySpan<byte> key, KeyHash hash, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never) => Put(key, CheckHash(key, hash), value, expiresAt, evict: true);

    /// <summary>A put for rebuilding a region from the store: it never evicts; what does not fit stays cold.</summary>
    public StoreStatus Load(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = Expiry.Never) => Put(key, Hash(key), value, expiresAt, evict: false);

    KeyHash Hash(ReadOnlySpan<byte> key) => KeyHash.Compute(key, _options.HashSeed);

    /// <summary>A hash made with another seed would file the key where no reader looks: debug builds check it.</summary>
    KeyHash CheckHash(ReadOnlySpan<byte> key, KeyHash hash)
    {
        System.Diagnostics.Debug.Assert(hash.Value == Hash(key).Value, "the key was hashed with another seed than the writer's");
        return hash;
    }

    StoreStatus Put(ReadOnlySpan<byte> key, KeyHash hash, ReadOnlySpan<byte> value, long expiresAt, bool evict)
    {
        StoreStatus valid = StoreStatusText.Validate(key.Length, value.Length);
        if (valid != StoreStatus.Ok) return valid;
        FreeRetired();
        int length = ExtentHeader.ExtentLength(key.Length, value.Length);
        bool indexCanGrow = true;
        bool cold = false;
        while (true)
        {
            // Evict before looking: an eviction may turn this key's own entry not resident.
            if (evict && !cold && _options.ColdTier is not null && AtBudget) EvictAhead(length);
            Region region = _region;
            Match match = Resolve(Find(region, key, hash, out ulong bucket, out int index, out IndexEntry old), key);
            bool exists = match != Match.None;
            if (!exists && indexCanGrow && NeedsMoreBuckets(Count + 1))
            {
                // Past the load factor: double the index now; at the budget's edge, fill it further.
                indexCanGrow = Grow(length, moreBuckets: true);
                continue;
            }
            IndexEntry entry;
            long offset = 0;
            if (cold)
            {
                entry = IndexEntry.CreateNotResident(hash.Fingerprint, hash.Value);
            }
            else
            {
                if (!_allocator.TryAllocate(length, out offset))
                {
                    if (_options.ColdTier is null)
                    {
                        if (!Grow(length, moreBuckets: false)) return StoreStatus.RegionFull;
                    }
                    else if (!(AtBudget ? evict && MakeRoom(length) : Grow(length, moreBuckets: false)))
                    {
                        cold = true;
                    }
                    continue;
                }
                ExtentHeader.Write(region.Bytes(offset, length), key, value, ++_sequence, expiresAt);
                entry = IndexEntry.Create(hash.Fingerprint, offset, length);
                MarkReferenced(region, offset);
            }
            if (exists)
            {
                if (cold && match == Match.Cold) return StoreStatus.Ok; // the store holds the new value
                if (cold && HasColdTwin(region, hash)) return StoreStatus.RegionFull;
                // The old extent is superseded before the new entry shows: a reader on a cached old
                // location cannot return the old value once any reader can see the new one.
                if (old.IsResident) Retire(region, old);
                region.PublishEntry(bucket, index, entry);
                _coldCount += (cold ? 1 : 0) - (old.IsResident ? 0 : 1);
                return StoreStatus.Ok;
            }
            if (cold && HasColdTwin(region, hash)) return StoreStatus.RegionFull;
            if (CuckooInsert.TryInsert(region, hash.PrimaryBucket(region.Header.BucketMask), entry, _options.CuckooSearchLimit, out int moves))
            {
                _cuckooMoves += moves;
                Count++;
                if (cold) _coldCount++;
                return StoreStatus.Ok;
            }
            if (!cold) _allocator.Release(offset, length); // never published: no reader can hold it
            if (!Grow(length, moreBuckets: true)) return StoreStatus.RegionFull;
        }
    }

    public StoreStatus Delete(ReadOnlySpan<byte> key) => InvalidKey(key) ?? Remove(key, Hash(key));

    /// <summary>A delete whose key the caller has hashed already with this writer's seed.</summary>
    public StoreStatus Delete(ReadOnlySpan<byte> key, KeyHash hash) => InvalidKey(key) ?? Remove(key, CheckHash(key, hash));

    static StoreStatus? InvalidKey(ReadOnlySpan<byte> key) =>
        key.Length == 0 ? StoreStatus.KeyEmpty : key.Length > Limits.MaxKeyLength ? StoreStatus.KeyTooLong : null;

    StoreStatus Remove(ReadOnlySpan<byte> key, KeyHash hash)
    {
        FreeRetired();
        if (Resolve(Find(_region, key, hash, out ulong bucket, out int index, out IndexEntry old), key) == Match.None) return StoreStatus.NotFound;
        if (old.IsResident) Retire(_region, old); // superseded first, as in a put
        else _coldCount--;
        _region.PublishEntry(bucket, index, default);
        Count--;
        _sequence++;
        return StoreStatus.Ok;
    }

    /// <summary>
    /// The writer's own lookup (for fallback GETs). The span points into the region and is valid
    /// only until the next put, delete or growth: copy it before releasing the writer.
    /// </summary>
    public bool TryGetValue(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => Lookup(key, out value) == Residence.Resident;

    /// <summary>As <see cref="Lookup(ReadOnlySpan{byte}, out ReadOnlySpan{byte}, out long)"/>, without the expiry.</summary>
    public Residence Lookup(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => Lookup(key, out value, out _);

    /// <summary>
    /// Where <paramref name="key"/>'s value is: in the region (<paramref name="value"/> points at
    /// it, valid until the next change, and <paramref name="expiresAt"/> is its expiry), possibly in
    /// the store only (a not-resident entry that looks like the key's), or nowhere. A resident value
    /// whose expiry has passed by this machine's clock is absent.
    /// </summary>
    public Residence Lookup(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out long expiresAt)
    {
        value = default;
        expiresAt = Expiry.Never;
        if (key.Length == 0 || key.Length > Limits.MaxKeyLength) return Residence.Absent;
        var hash = KeyHash.Compute(key, _options.HashSeed);
        switch (Find(_region, key, hash, out _, out _, out IndexEntry entry))
        {
            case Match.Resident:
                if (!Intact(_region, entry.ExtentOffset, key.Length)) return Residence.Damaged;
                ref ExtentHeader e = ref _region.ExtentAt(entry.ExtentOffset);
                if (Expiry.HasPassed(e.ExpiresAt)) return Residence.Absent;
                expiresAt = e.ExpiresAt;
                value = _region.Bytes(entry.ExtentOffset + ExtentHeader.Size + e.KeyLength, (int)e.ValueLength);
                return Residence.Resident;
            case Match.Cold:
                return Residence.MaybeCold;
            default:
                return Residence.Absent;
        }
    }

    bool NeedsMoreBuckets(long count) => count > _options.MaxLoadFactor * _region.Header.BucketCount * Bucket.EntryCount;

    enum Match { None, Resident, Cold }

    /// <summary>
    /// The key's resident entry, else a not-resident entry with its fingerprint and hash bits (which
    /// may belong to another key: see <see cref="Resolve"/>), else none.
    /// </summary>
    static Match Find(Region region, ReadOnlySpan<byte> key, KeyHash hash, out ulong bucket, out int index, out IndexEntry entry)
    {
        ulong mask = region.Header.BucketMask;
        ulong primary = hash.PrimaryBucket(mask);
        ulong secondary = KeyHash.AlternateBucket(primary, hash.Fingerprint, mask);
        (ulong Bucket, int Index, IndexEntry Entry)? cold = null;
        foreach (ulong b in (ReadOnlySpan<ulong>)[primary, secondary])
        {
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry s = region.ReadEntry(b, i);
                if (s.IsEmpty || s.Fingerprint != hash.Fingerprint) continue;
                if (s.NotResident)
                {
                    if (s.HashBits == (uint)hash.Value) cold ??= (b, i, s);
                    continue;
                }
                if (!InBounds(region, s, out int keyLength, out _)) continue; // damaged: not this key's extent
                if (keyLength == key.Length && region.Bytes(s.ExtentOffset + ExtentHeader.Size, key.Length).SequenceEqual(key))
                {
                    (bucket, index, entry) = (b, i, s);
                    return Match.Resident;
                }
            }
        }
        (bucket, index, entry) = cold ?? (0, 0, default);
        return cold is null ? Match.None : Match.Cold;
    }

    /// <summary>
    /// A not-resident entry that looks like the key's is the key's exactly when the store holds the
    /// key: every stored key has an entry, and no two not-resident entries look alike (eviction and
    /// cold inserts check <see cref="HasColdTwin"/>), so a stored key without a resident entry owns
    /// the one cold look-alike.
    /// </summary>
    Match Resolve(Match match, ReadOnlySpan<byte> key) =>
        match == Match.Cold && _options.ColdTier?.Contains(key) != true ? Match.None : match;

    /// <summary>True when a not-resident entry in the hash's buckets has its fingerprint and hash bits.</summary>
    static bool HasColdTwin(Region region, KeyHash hash)
    {
        ulong mask = region.Header.BucketMask;
        ulong primary = hash.PrimaryBucket(mask);
        foreach (ulong b in (ReadOnlySpan<ulong>)[primary, KeyHash.AlternateBucket(primary, hash.Fingerprint, mask)])
        {
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry s = region.ReadEntry(b, i);
                if (s.NotResident && s.Fingerprint == hash.Fingerprint && s.HashBits == (uint)hash.Value) return true;
            }
        }
        return false;
    }

    /// <summary>Supersedes a replaced extent and frees it after quarantine; a damaged one is never reused.</summary>
    void Retire(Region region, IndexEntry old)
    {
        region.Supersede(old.ExtentOffset);
        if (InBounds(region, old, out _, out int length)) _allocator.Release(old.ExtentOffset, length);
        else _damaged++;
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
