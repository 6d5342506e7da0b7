using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RdmaKv.Core;
using RdmaKv.Storage;

namespace RdmaKv.Server;

/// <summary>
/// The node's durable side: the store it recovers at start and rebuilds its regions from, the log
/// its writes wait on in sync mode, and checkpoints (on an interval, on request, at shutdown).
/// </summary>
public sealed partial class StorageNode
{
    readonly DurableStore _store;
    readonly Timer? _checkpointTimer;
    Timer? _repairTimer;
    int _checkpointRunning;

    /// <summary>The store's and the log's tails after the last checkpoint: a periodic one that finds them unchanged wrote nothing new, and says so at Debug.</summary>
    long _checkpointedStoreTail = -1, _checkpointedLogTail = -1;
    int _repairRunning;
    bool _refusingWrites;
    long _coldReads;
    long _rebuiltKeys;
    TimeSpan _rebuildTime;

    /// <summary>What the node recovered from its data directory at start.</summary>
    public RecoveryReport Recovery { get; }

    public DurabilityMode Durability => _store.Durability;

    /// <summary>How many keys the regions were rebuilt with at start, and how long that took.</summary>
    public (long Keys, TimeSpan Elapsed) Rebuilt => (_rebuiltKeys, _rebuildTime);

    static DurableStore OpenStore(StorageNodeOptions options, out RecoveryReport recovery) =>
        DurableStore.Open(new DurableStoreOptions
        {
            Directory = options.DataDirectory,
            Durability = options.Durability,
            CommitInterval = options.CommitInterval,
            StoreMemoryBytes = options.StoreMemoryBytes,
        }, out recovery);

    /// <summary>
    /// Fills the fresh regions from the store: values while they fit, the rest as not-resident
    /// entries. Both passes scan the log on one thread per core (at most 8, or
    /// <see cref="StorageNodeOptions.RebuildThreads"/>),
    /// each range of pages with its own store session; each key is loaded under its partition's lock.
    /// </summary>
    void RebuildRegions()
    {
        var started = Stopwatch.StartNew();
        int threads = Options.RebuildThreads > 0 ? Options.RebuildThreads : Math.Min(8, Environment.ProcessorCount);
        // Size each region once for what it will hold: growing by doubling during the load copied
        // everything a dozen times (14 of 19 s at start with a million 1 KiB keys).
        var keys = new long[_partitions.Length];
        var bytes = new long[_partitions.Length];
        _store.ForEach((key, value) =>
        {
            int p = KeyHash.Compute(key, _seed).Partition(_partitions.Length);
            Interlocked.Increment(ref keys[p]);
            Interlocked.Add(ref bytes[p], PartitionWriter.ExtentBytes(key.Length, value.Length));
        }, threads);
        for (int p = 0; p < _partitions.Length; p++)
        {
            lock (_partitions[p].Lock) _partitions[p].Writer.Reserve(keys[p], bytes[p]);
        }
        // Values past their expiry are loaded too (every stored key has its entry); the sweep removes them.
        _rebuiltKeys = _store.ForEach((key, value, expiresAt) =>
        {
            var partition = PartitionOf(key);
            StoreStatus status;
            lock (partition.Lock) status = partition.Writer.Load(key, value, expiresAt);
            if (status != StoreStatus.Ok)
            {
                throw new InvalidOperationException(
                    $"rebuilding the regions from {Options.DataDirectory} failed ({StoreStatusText.Describe(status)}): the stored keys need a larger --memory" +
                    (Options.ColdTier ? "" : " or the cold tier (--cold-tier on)"));
            }
        }, threads);
        _rebuildTime = started.Elapsed;
    }

    void LogRecovery()
    {
        foreach (string warning in Recovery.Warnings) _log.LogWarning("Recovery: {Warning}", warning);
        long cold = _partitions.Sum(p => p.Stats.ColdCount);
        _log.LogInformation(
            "Recovered {Recovery}; regions rebuilt with {Keys} keys ({Cold} not resident) in {Ms} ms; durability {Mode}",
            Recovery.Describe(), _rebuiltKeys, cold, (long)_rebuildTime.TotalMilliseconds, Options.Durability.Name());
    }

    /// <summary>
    /// Takes a checkpoint of the store now and cuts the log behind it. For the admin plane and
    /// <c>rdmakv checkpoint</c>; the node also checkpoints on an interval and when it stops.
    /// </summary>
    public CheckpointReport Checkpoint()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return TakeCheckpoint(periodic: false);
    }

    CheckpointReport TakeCheckpoint(bool periodic)
    {
        // Every log record before logStart must be in the store: with every partition's lock held,
        // no writer is between appending a record and applying it.
        long logStart, generation;
        foreach (var p in _partitions) p.Lock.Enter();
        try
        {
            (logStart, generation) = (_store.LogTail, _store.LogGeneration);
        }
        finally
        {
            foreach (var p in _partitions) p.Lock.Exit();
        }
        bool idle = _store.StoreTail == Interlocked.Read(ref _checkpointedStoreTail) && logStart == Interlocked.Read(ref _checkpointedLogTail);
        var report = _store.Checkpoint(logStart, generation);
        Interlocked.Exchange(ref _checkpointedStoreTail, _store.StoreTail);
        Interlocked.Exchange(ref _checkpointedLogTail, logStart);
        // An idle node's timer would otherwise log the same line every interval.
        _log.Log(periodic && idle ? LogLevel.Debug : LogLevel.Information, "Checkpoint {Token} taken in {Ms} ms; the log is kept from address {Truncated}",
            report.Token, (long)report.Elapsed.TotalMilliseconds, report.TruncatedUntil);
        return report;
    }

    /// <summary>Starts the checkpoint timer (null when checkpoints are off) and the one that repairs the store after a full disk.</summary>
    Timer? StartCheckpointTimer()
    {
        _repairTimer = new Timer(_ => RepairAfterDiskFull(), null, RepairInterval, RepairInterval);
        return Options.CheckpointInterval == Timeout.InfiniteTimeSpan
            ? null
            : new Timer(_ => PeriodicCheckpoint(), null, Options.CheckpointInterval, Options.CheckpointInterval);
    }

    static readonly TimeSpan RepairInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// While the store refuses writes (DiskFull), tries to take them again: once the data
    /// directory has room for a checkpoint, reopens the failed log at its last commit (every
    /// partition's lock held, so no writer is appending) and checkpoints the store, which holds
    /// every write the log lost. Reads go on throughout; writes are refused until it succeeds.
    /// </summary>
    void RepairAfterDiskFull()
    {
        if (_store.WriteStatus == StoreStatus.Ok || Volatile.Read(ref _disposed) != 0) return;
        // A timer's callbacks may overlap when one takes longer than the period.
        if (Interlocked.Exchange(ref _repairRunning, 1) != 0) return;
        try
        {
            Repair();
        }
        finally
        {
            Volatile.Write(ref _repairRunning, 0);
        }
    }

    void Repair()
    {
        if (!_refusingWrites)
        {
            _refusingWrites = true;
            Counters.CountError("disk", _store.WriteFailure ?? "the data directory cannot be written");
            _log.LogError("Writes are refused with DiskFull: {Reason}; {Free} bytes are free. {Next}", _store.WriteFailure, FreeBytes(),
                _store.CanRepair ? "They are taken again once there is space for a checkpoint." : "Restart the node once space is freed.");
        }
        if (!_store.CanRepair || !RoomForCheckpoint()) return;
        if (Interlocked.Exchange(ref _checkpointRunning, 1) != 0) return;
        try
        {
            (long LogStart, long Generation) position;
            foreach (var p in _partitions) p.Lock.Enter();
            try
            {
                position = _store.ReopenLog();
            }
            finally
            {
                foreach (var p in _partitions) p.Lock.Exit();
            }
            var report = _store.Checkpoint(position.LogStart, position.Generation);
            _refusingWrites = false;
            _log.LogWarning("Writes are taken again: checkpoint {Token} holds every write the failed log had not committed; the log goes on from address {Start}",
                report.Token, position.LogStart);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            _log.LogDebug("The store cannot take writes yet: {Message}", e.Message);
        }
        finally
        {
            Volatile.Write(ref _checkpointRunning, 0);
        }
    }

    /// <summary>Whether the data directory's file system has room for a checkpoint now (an attempt without it only churns the disk).</summary>
    bool RoomForCheckpoint() => FreeBytes() is not { } free || free > _store.CheckpointBytes;

    /// <summary>Free bytes on the data directory's file system; null when that cannot be told.</summary>
    long? FreeBytes()
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(Options.DataDirectory)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    void PeriodicCheckpoint()
    {
        if (Interlocked.Exchange(ref _checkpointRunning, 1) != 0) return;
        try
        {
            if (Volatile.Read(ref _disposed) == 0) TakeCheckpoint(periodic: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            _log.LogError("Periodic checkpoint failed: {Message}", e.Message);
        }
        finally
        {
            Volatile.Write(ref _checkpointRunning, 0);
        }
    }

    /// <summary>In sync mode, waits until the log record at <paramref name="address"/> is committed; DiskFull when it cannot be.</summary>
    internal StoreStatus WaitDurable(long address) => _store.WaitDurable(address);

    void AddDurabilityStats(Dictionary<string, long> stats)
    {
        long cold = 0, evictions = 0, promotions = 0;
        foreach (var p in _partitions)
        {
            var s = p.Stats;
            cold += s.ColdCount;
            evictions += s.Evictions;
            promotions += s.Promotions;
        }
        stats["cold_keys"] = cold;
        stats["evictions"] = evictions;
        stats["promotions"] = promotions;
        stats["cold_reads"] = Interlocked.Read(ref _coldReads);
        foreach (var (name, value) in _store.Stats()) stats[name] = value;
    }

    /// <summary>Stops the checkpoint timer, takes a last checkpoint and closes the store (after the listener has drained).</summary>
    void CloseStore()
    {
        foreach (var timer in (Timer?[])[_checkpointTimer, _repairTimer])
        {
            if (timer is null) continue;
            using var stopped = new ManualResetEvent(false);
            if (timer.Dispose(stopped)) stopped.WaitOne();
        }
        try
        {
            _store.Dispose(checkpoint: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            _log.LogError("The last checkpoint failed ({Message}); the next start replays the log", e.Message);
            _store.Dispose();
        }
    }
}
