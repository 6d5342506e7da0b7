namespace RdmaKv.Storage;

/// <summary>Where and how a node keeps its keys and values on disk. Every default is here.</summary>
public sealed record DurableStoreOptions
{
    /// <summary>The node's data directory; the store uses <c>aof/</c> and <c>store/</c> under it.</summary>
    public required string Directory { get; init; }

    public DurabilityMode Durability { get; init; } = DurabilityMode.Async;

    /// <summary>How often <see cref="DurabilityMode.Async"/> commits the log (the most a crash can lose).</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Memory for the store's in-memory log (FASTER's hybrid log); older records are read from disk.</summary>
    public long StoreMemoryBytes { get; init; } = 64L << 20;

    /// <summary>Buckets of the store's hash index (64 bytes each, 7 keys each before overflow buckets).</summary>
    public long IndexBuckets { get; init; } = 1L << 16;

    /// <summary>Checkpoints kept; recovery falls back to an older one when the newest is damaged.</summary>
    public int CheckpointsKept { get; init; } = 2;

    public string LogDirectory => Path.Combine(Directory, "aof");
    public string StoreDirectory => Path.Combine(Directory, "store");
    public string CheckpointDirectory => Path.Combine(StoreDirectory, "checkpoints");

    public void Validate()
    {
        if (CommitInterval <= TimeSpan.Zero || CommitInterval > TimeSpan.FromSeconds(10))
            throw new ArgumentException($"--commit-interval {CommitInterval.TotalMilliseconds} ms is out of range (above 0, at most 10 s)");
        if (StoreMemoryBytes < 16L << 20)
            throw new ArgumentException($"--store-memory {StoreMemoryBytes} bytes is below the 16 MiB the store needs (four 4 MiB pages)");
        if (IndexBuckets < 1024 || (IndexBuckets & (IndexBuckets - 1)) != 0)
            throw new ArgumentException($"the store's index size {IndexBuckets} must be a power of two of at least 1024 buckets");
        if (CheckpointsKept is < 1 or > 16) throw new ArgumentException($"checkpoints kept {CheckpointsKept} is out of range (1 to 16)");
    }
}
