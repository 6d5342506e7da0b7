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

    /// <summary>Where remote clients connect over UCX (<c>ucx://HOST:PORT</c>); "none" turns remote access off.</summary>
    public string Listen { get; init; } = "127.0.0.1:7400";

    /// <summary>How remote clients READ regions: one-sided with rkeys (verbs), as checked messages, or auto (by the host's devices and UCX_TLS).</summary>
    public Ucx.RemoteReadPath RemoteReads { get; init; } = Ucx.RemoteReadPath.Auto;

    /// <summary>Where the admin plane (HTTP API, /metrics, /health, dashboard) listens, ';'-separated; "none" turns it off.</summary>
    public string AdminUrls { get; init; } = Admin.AdminOptions.DefaultUrls;

    /// <summary>Host names the admin plane answers besides loopback, its own listen hosts and the machine's name, ';'-separated ("*": any).</summary>
    public string? AdminHosts { get; init; }

    /// <summary>Requests per second each address may make to the admin plane without the admin token (twice that in a burst).</summary>
    public int AdminRateLimit { get; init; } = Admin.AdminOptions.DefaultUnauthenticatedPerSecond;

    /// <summary>How long the admin plane serves one rendering of /metrics again.</summary>
    public TimeSpan AdminMetricsCache { get; init; } = Admin.AdminOptions.DefaultMetricsCacheDuration;

    /// <summary>When a write is on disk relative to its reply: none, async (the default) or sync. See README "Durability".</summary>
    public Storage.DurabilityMode Durability { get; init; } = Storage.DurabilityMode.Async;

    /// <summary>How often async durability commits the log: the most a crash can lose.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How often the store is checkpointed (and the log cut behind it); infinite turns the timer off.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the node sweeps its regions for values whose expiry has passed; zero or less turns the sweep off (reads still take them as absent, and remove the evicted ones they find).</summary>
    public TimeSpan ExpirySweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Buckets (7 entries each) of each partition one sweep looks at: it bounds the time a sweep holds a partition's lock.</summary>
    public int ExpirySweepBuckets { get; init; } = 4096;

    /// <summary>Threads that rebuild the regions from the store at start; 0 (the default) is one per core, at most 8.</summary>
    public int RebuildThreads { get; init; }

    /// <summary>Memory for the store's in-memory log (FASTER); the rest of the store is on disk.</summary>
    public long StoreMemoryBytes { get; init; } = 256L << 20;

    /// <summary>When a region is full, evict cold values to the store (true) or refuse puts with RegionFull (false).</summary>
    public bool ColdTier { get; init; } = true;

    /// <summary>The cluster file (see README, Cluster); null for a node on its own.</summary>
    public string? ClusterFile { get; init; }

    /// <summary>This node's id in the cluster file.</summary>
    public string? NodeId { get; init; }

    /// <summary>The admin token file; default DATA_DIR/admin-token. A cluster's nodes may share one.</summary>
    public string? AdminTokenFile { get; init; }

    /// <summary>The remote clients' token file; default DATA_DIR/client-token. A cluster's nodes share one.</summary>
    public string? ClientTokenFile { get; init; }

    /// <summary>
    /// The cluster credential's file, for node-to-node messages (moves, maps); default
    /// DATA_DIR/cluster-token. Every node of a cluster shares one, and it differs from the client token.
    /// </summary>
    public string? ClusterTokenFile { get; init; }

    /// <summary>
    /// The etcd endpoints (comma-separated URLs) that hold the cluster's membership and map: turns
    /// on replication and failover (see docs/replication.md). Null: a node on its own, or a static
    /// cluster file with no failover.
    /// </summary>
    public string? Etcd { get; init; }

    /// <summary>
    /// The membership lease's time to live in etcd, which is also how long a backup's read lease
    /// lasts: a node silent this long is failed over. Every node of a cluster must use the same.
    /// </summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long before its leases could expire elsewhere a primary stops serving: it covers the
    /// lease check's period, retiring the regions, a scheduling stall and clock-rate drift.
    /// </summary>
    public TimeSpan LeaseMargin { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a primary waits for a backup to apply a write before the write fails as Unavailable.</summary>
    public TimeSpan ReplicationTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public void Validate()
    {
        if (!Transport.NodeDirectory.IsValidName(Name))
            throw new ArgumentException($"--name '{Name}' is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
        if (Partitions is < 1 or > 1024) throw new ArgumentException($"--partitions {Partitions} is out of range (1 to 1024)");
        if (CheckpointInterval != Timeout.InfiniteTimeSpan && CheckpointInterval < TimeSpan.FromSeconds(1))
            throw new ArgumentException($"--checkpoint-interval {CheckpointInterval.TotalSeconds} s is below the 1 s minimum");
        new Storage.DurableStoreOptions { Directory = DataDirectory, CommitInterval = CommitInterval, StoreMemoryBytes = StoreMemoryBytes }.Validate();
        long share = MemoryBytes / Partitions;
        long first = Core.RegionHeader.IndexOffset + InitialBucketCount * Core.Bucket.Size + InitialExtentBytes;
        if (share < first)
            throw new ArgumentException($"--memory {MemoryBytes} bytes gives each of {Partitions} partitions {share} bytes, less than the {first} a first region needs");
        if (ClusterFile is not null && Etcd is not null)
            throw new ArgumentException("--cluster and --etcd exclude each other: with etcd the map lives there (seed it once with 'rdmakv cluster init FILE --etcd URL')");
        if ((ClusterFile is null && Etcd is null) != (NodeId is null))
            throw new ArgumentException("--node-id goes with --cluster or --etcd: which node of the cluster this is");
        if (LeaseTtl < TimeSpan.FromSeconds(1) || LeaseTtl > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"--lease-ttl {LeaseTtl.TotalSeconds} s is out of range (1 s to 60 s)");
        if (LeaseMargin <= TimeSpan.Zero || LeaseMargin * 2 > LeaseTtl)
            throw new ArgumentException($"--lease-margin {LeaseMargin.TotalMilliseconds} ms must be above 0 and at most half of --lease-ttl ({LeaseTtl.TotalMilliseconds} ms)");
        if (ReplicationTimeout <= TimeSpan.Zero) throw new ArgumentException("--replication-timeout must be above 0");
        if (ExpirySweepBuckets < 1) throw new ArgumentException($"ExpirySweepBuckets {ExpirySweepBuckets} must be at least 1");
        if (!string.Equals(AdminUrls, "none", StringComparison.OrdinalIgnoreCase))
            AdminPlaneOptions().Validate();
    }

    /// <summary>The admin plane's options as this node's options set them.</summary>
    public Admin.AdminOptions AdminPlaneOptions() => new()
    {
        Urls = AdminUrls,
        DataDirectory = DataDirectory,
        TokenFile = AdminTokenFile,
        AllowedHosts = AdminHosts,
        UnauthenticatedPerSecond = AdminRateLimit,
        UnauthenticatedBurst = 2 * AdminRateLimit,
        UnauthenticatedTotalPerSecond = Math.Max(AdminRateLimit, Admin.AdminOptions.DefaultUnauthenticatedTotalPerSecond),
        MetricsCacheDuration = AdminMetricsCache,
    };
}
