namespace RdmaKv.Core;

/// <summary>How one partition's region starts, grows and recycles memory. Every default is here.</summary>
public sealed record PartitionWriterOptions
{
    public int Partition { get; init; }
    public int PartitionCount { get; init; } = 1;
    public ulong HashSeed { get; init; }

    /// <summary>Buckets of the first region (7 entries each); a power of two.</summary>
    public long InitialBucketCount { get; init; } = 1024;

    /// <summary>Extent area of the first region.</summary>
    public long InitialExtentBytes { get; init; } = 1 << 20;

    /// <summary>The largest region this partition may grow to: its share of the node's memory budget.</summary>
    public long MaxRegionBytes { get; init; } = 64L << 20;

    /// <summary>Share of entries in use above which the index doubles.</summary>
    public double MaxLoadFactor { get; init; } = 0.85;

    /// <summary>Share of the largest extent area that live data may fill before puts fail with RegionFull.</summary>
    public double MaxExtentFill { get; init; } = 0.9;

    /// <summary>Buckets a cuckoo search may visit before the insert gives up and the index grows.</summary>
    public int CuckooSearchLimit { get; init; } = 512;

    /// <summary>How long a released extent waits before reuse (readers that raced the release see it superseded).</summary>
    public TimeSpan QuarantineGrace { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The node's store of every key, when it has one: then a full region evicts cold values
    /// (their entries stay, marked not resident) instead of refusing puts. Null: no cold tier.
    /// </summary>
    public IColdTier? ColdTier { get; init; }

    /// <summary>Share of the extent area kept free ahead of puts once the region is at its budget, so evicted extents can wait out their quarantine.</summary>
    public double EvictionHeadroom { get; init; } = 0.125;

    /// <summary>How long a retired region stays mapped after a newer generation replaced it.</summary>
    public TimeSpan RetiredRegionGrace { get; init; } = TimeSpan.FromSeconds(2);
}
