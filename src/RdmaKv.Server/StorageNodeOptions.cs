namespace RdmaKv.Server;

/// <summary>
/// Everything a storage node can be told, with the defaults it uses when told nothing. This is
/// the one place defaults live; the command line and the README mirror it.
/// </summary>
public sealed record StorageNodeOptions
{
    /// <summary>The node's name: local clients connect with <c>local:NAME</c>; its shared memory is /dev/shm/rdmakv-NAME.</summary>
    public string Name { get; init; } = "default";

    /// <summary>Where the node keeps its durable state (hash seed now; the log and checkpoints later).</summary>
    public string DataDirectory { get; init; } = "rdmakv-data";

    /// <summary>Memory for all partitions' regions together; each partition may grow to its share.</summary>
    public long MemoryBytes { get; init; } = 256L << 20;

    /// <summary>Partitions on this node; each has its own region and its own writer lock.</summary>
    public int Partitions { get; init; } = 4;

    /// <summary>Where node directories go; null means $RDMAKV_SHM_DIR, else /dev/shm.</summary>
    public string? SharedMemoryRoot { get; init; }

    /// <summary>How long a connection's thread spins for the next request before it blocks.</summary>
    public TimeSpan SpinBeforeBlock { get; init; } = TimeSpan.FromMicroseconds(50);

    /// <summary>The first region of each partition: its bucket count and extent area.</summary>
    public long InitialBucketCount { get; init; } = 1024;
    public long InitialExtentBytes { get; init; } = 1L << 20;

    public void Validate()
    {
        if (!Transport.NodeDirectory.IsValidName(Name))
            throw new ArgumentException($"--name '{Name}' is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
        if (Partitions is < 1 or > 1024) throw new ArgumentException($"--partitions {Partitions} is out of range (1 to 1024)");
        long share = MemoryBytes / Partitions;
        long first = Core.RegionHeader.IndexOffset + InitialBucketCount * Core.Bucket.Size + InitialExtentBytes;
        if (share < first)
            throw new ArgumentException($"--memory {MemoryBytes} bytes gives each of {Partitions} partitions {share} bytes, less than the {first} a first region needs");
    }
}
