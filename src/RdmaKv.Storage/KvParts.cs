using System.Numerics;
using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>What a FasterKV needs disposed with it, and the logger that hears its I/O errors.</summary>
sealed record KvParts(FasterKVSettings<SpanByte, SpanByte> Settings, DeviceLogCommitCheckpointManager Checkpoints, IoErrorLog Errors) : IDisposable
{
    public void Dispose()
    {
        Checkpoints.Dispose();
        Settings.Dispose();
    }

    /// <summary>The store log's page: no record crosses one, so a scan may start at any page start.</summary>
    public const long PageBytes = 1L << 22;

    /// <summary>The store's FasterKV on <see cref="DurableStoreOptions.StoreDirectory"/>, not yet recovered.</summary>
    public static (FasterKV<SpanByte, SpanByte>, KvParts) Create(DurableStoreOptions options)
    {
        Directory.CreateDirectory(options.StoreDirectory);
        var errors = new IoErrorLog();
        // The base directory gives the log device (hlog.log) and checkpoints/ under it, and a
        // logger: FASTER reports failed device writes only there.
        var checkpoints = new DeviceLogCommitCheckpointManager(new LocalStorageNamedDeviceFactory(),
            new DefaultCheckpointNamingScheme(new DirectoryInfo(options.CheckpointDirectory).FullName), removeOutdated: false, fastCommitThrottleFreq: 0, logger: errors);
        var settings = new FasterKVSettings<SpanByte, SpanByte>(options.StoreDirectory, deleteDirOnDispose: false, logger: errors)
        {
            IndexSize = options.IndexBuckets * 64,
            CheckpointManager = checkpoints,
            PageSize = PageBytes, // a record (up to 1 MiB and its key) fits a page
            SegmentSize = 1L << 28,
            MemorySize = (long)BitOperations.RoundUpToPowerOf2((ulong)options.StoreMemoryBytes) == options.StoreMemoryBytes
                ? options.StoreMemoryBytes
                : (long)BitOperations.RoundUpToPowerOf2((ulong)options.StoreMemoryBytes) / 2,
            RemoveOutdatedCheckpoints = false,
            TryRecoverLatest = false,
            ConcurrencyControlMode = ConcurrencyControlMode.None,
        };
        return (new FasterKV<SpanByte, SpanByte>(settings), new KvParts(settings, checkpoints, errors));
    }
}
