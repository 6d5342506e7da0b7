using System.Diagnostics;
using FASTER.core;
using RdmaKv.Core;

namespace RdmaKv.Storage;

/// <summary>
/// A node's durable state: a FASTER key-value store holding every key and value (on a log device
/// in <c>DATA/store</c>, checkpointed), and the append-only log of writes since the checkpoint
/// (<c>DATA/aof</c>, unless durability is none). Opening it recovers: the newest intact
/// checkpoint, then the log after it, cut at the first damaged record. It refuses to open when
/// that would start empty or older than the log (commit metadata missing, or the log cut behind
/// a checkpoint that is not there). When the disk refuses a write it stops taking writes
/// (<see cref="WriteStatus"/>) until <see cref="ReopenLog"/> and a checkpoint succeed.
/// </summary>
public sealed partial class DurableStore : IDisposable
{
    readonly DurableStoreOptions _options;
    readonly Lock _checkpointGate = new();
    readonly List<StoreSession> _sessions = [];
    readonly FasterKV<SpanByte, SpanByte> _kv;
    readonly KvParts _parts;
    List<CheckpointManifest> _kept;
    long _sequence;
    long _checkpoints;
    long _logGeneration;
    volatile bool _logLost;
    int _disposed;

    DurableStore(DurableStoreOptions options, FasterKV<SpanByte, SpanByte> kv, KvParts parts, List<CheckpointManifest> kept, AppendOnlyLog? log)
    {
        _options = options;
        _kv = kv;
        _parts = parts;
        _kept = kept;
        _sequence = kept.Count == 0 ? 0 : kept[0].Sequence;
        Log = log;
    }

    public DurabilityMode Durability => _options.Durability;

    internal AppendOnlyLog? Log { get; private set; }

    /// <summary>The log's tail: a checkpoint taken when every record before it is applied replays from here.</summary>
    public long LogTail => Log?.TailAddress ?? 0;

    /// <summary>Bumped each time a failed log is reopened: a log position is only meaningful with its generation.</summary>
    public long LogGeneration => Interlocked.Read(ref _logGeneration);

    /// <summary>
    /// <see cref="StoreStatus.DiskFull"/> while the store cannot make writes durable: its log
    /// failed, or was reopened and the writes it lost are not yet in a checkpoint, or a page of
    /// the store's own log could not be written. <see cref="StoreStatus.Ok"/> otherwise.
    /// </summary>
    public StoreStatus WriteStatus =>
        Log is { Failed: true } || _logLost || _parts.Errors.StoreLogError is not null ? StoreStatus.DiskFull : StoreStatus.Ok;

    /// <summary>Why writes are refused, for the node's log; null when they are not.</summary>
    public string? WriteFailure =>
        Log?.Failure?.Message
        ?? (_parts.Errors.StoreLogError is { } error ? $"a page of the store's log in {_options.StoreDirectory} could not be written ({error})" : null)
        ?? (_logLost ? "the log was reopened after a failed write; a checkpoint must succeed before writes are taken again" : null);

    /// <summary>The store's log tail: it moves with every write the store takes, so an unchanged tail means no write since.</summary>
    public long StoreTail => _kv.Log.TailAddress;

    /// <summary>The store log's head: records before it are on disk only.</summary>
    internal long StoreHeadAddress => _kv.Log.HeadAddress;

    /// <summary>At most how many bytes a checkpoint writes now: the store's log in memory, and the index.</summary>
    public long CheckpointBytes => _kv.Log.TailAddress - _kv.Log.HeadAddress + _options.IndexBuckets * 64;

    /// <summary>True when a failed log can be reopened and checkpointed (<see cref="ReopenLog"/>); a failure of the store's own log needs a restart.</summary>
    public bool CanRepair => _parts.Errors.StoreLogError is null && (Log is { Failed: true } || _logLost);

    /// <summary>Opens (and recovers) the store in <see cref="DurableStoreOptions.Directory"/>.</summary>
    public static DurableStore Open(DurableStoreOptions options, out RecoveryReport report)
    {
        options.Validate();
        var started = Stopwatch.StartNew();
        Directory.CreateDirectory(options.CheckpointDirectory);
        var warnings = new List<string>();
        var manifests = CheckpointCatalog.Load(options.CheckpointDirectory, warnings);
        foreach (Guid token in CheckpointCatalog.TokensOnDisk(options.CheckpointDirectory).Distinct().ToList())
        {
            if (manifests.Any(m => m.Token == token)) continue;
            CheckpointCatalog.DeleteFiles(options.CheckpointDirectory, token); // a checkpoint that never finished
        }

        var skipped = new List<CheckpointManifest>();
        CheckpointManifest? recovered = null;
        FasterKV<SpanByte, SpanByte>? kv = null;
        KvParts? parts = null;
        foreach (var manifest in manifests)
        {
            string? damage = CheckpointCatalog.Verify(options.CheckpointDirectory, manifest);
            if (damage is null)
            {
                (kv, parts) = KvParts.Create(options);
                try
                {
                    kv.Recover(manifest.Token);
                    recovered = manifest;
                    break;
                }
                catch (Exception e) when (e is FasterException or IOException or InvalidDataException or ArgumentException or InvalidOperationException)
                {
                    damage = e.Message;
                    kv.Dispose();
                    parts.Dispose();
                    kv = null;
                }
            }
            warnings.Add($"checkpoint {manifest.Token} (sequence {manifest.Sequence}) cannot be recovered: {damage}; falling back to the one before");
            skipped.Add(manifest);
        }
        if (recovered is null && manifests.Count > 0)
        {
            throw new InvalidDataException(
                $"none of the {manifests.Count} checkpoint(s) in {options.CheckpointDirectory} can be recovered ({string.Join("; ", warnings)}). " +
                "Restore the data directory from a backup, or move it aside to start empty.");
        }
        if (kv is null) (kv, parts) = KvParts.Create(options);

        bool hasLog = options.Durability != DurabilityMode.None || Directory.Exists(options.LogDirectory);
        AppendOnlyLog? log;
        try
        {
            log = hasLog ? new AppendOnlyLog(options, warnings) : null;
            if (log is not null) CheckLogCovers(options, log, recovered);
        }
        catch
        {
            kv.Dispose();
            parts!.Dispose();
            throw;
        }
        var store = new DurableStore(options, kv, parts!, recovered is null ? [] : [.. manifests.Where(m => m.Sequence <= recovered.Sequence)], log);
        long replayed = 0;
        long? cut = null;
        try
        {
            if (log is not null)
            {
                using var session = store.NewSession();
                cut = log.Replay(recovered?.LogStart ?? 0, (op, key, value, expiresAt) =>
                {
                    if (op == LogOp.Put) session.Upsert(key, value, expiresAt);
                    else session.Remove(key);
                }, out replayed);
                if (cut is not null)
                    warnings.Add($"the log has a torn or damaged record at address {cut}: recovery stops there and the log is cut (records after it are lost)");
            }
            foreach (var s in skipped) CheckpointCatalog.Delete(options.CheckpointDirectory, s);

            // A checkpoint of what was recovered: the log can then be cut behind it (past a
            // damaged record) and the next start need not replay again.
            if (replayed > 0 || cut is not null || skipped.Count > 0) store.Checkpoint(store.LogTail, store.LogGeneration, dropOlder: cut is not null);
            if (options.Durability == DurabilityMode.None && log is not null)
            {
                // The node ran with a log before; everything in it is now in the checkpoint.
                log.Dispose();
                store.Log = null;
                Directory.Delete(options.LogDirectory, recursive: true);
            }
        }
        catch
        {
            store.Dispose(checkpoint: false);
            throw;
        }

        report = new RecoveryReport
        {
            Checkpoint = recovered?.Token,
            CheckpointTaken = recovered?.Taken,
            RecordsReplayed = replayed,
            LogCutAt = cut,
            SkippedCheckpoints = [.. skipped.Select(s => s.Token)],
            Warnings = warnings,
            Elapsed = started.Elapsed,
        };
        return store;
    }

    /// <summary>
    /// Refuses a start that would be older than the log: records before the log's begin address
    /// were dropped because a checkpoint held them, so that checkpoint must be the one recovered.
    /// </summary>
    static void CheckLogCovers(DurableStoreOptions options, AppendOnlyLog log, CheckpointManifest? recovered)
    {
        long start = recovered?.LogStart ?? AppendOnlyLog.FirstAddress;
        if (log.BeginAddress <= start) return;
        log.Dispose();
        throw new InvalidDataException(
            (recovered is null
                ? $"no checkpoint is in {options.CheckpointDirectory}, but the log in {options.LogDirectory} was cut at address {log.BeginAddress} behind one"
                : $"checkpoint {recovered.Token} replays the log from address {recovered.LogStart}, but the log in {options.LogDirectory} begins at {log.BeginAddress}")
            + ": starting would lose the writes between. Restore the data directory from a backup, or move it aside to start empty.");
    }

    /// <summary>A session for one partition (callers serialize their use of it).</summary>
    public StoreSession NewSession()
    {
        var session = new StoreSession(this, _kv);
        lock (_sessions) _sessions.Add(session);
        return session;
    }

    /// <summary>
    /// In sync mode, blocks until the log record at <paramref name="address"/> is committed;
    /// <see cref="StoreStatus.DiskFull"/> when the log failed first (the write may or may not survive).
    /// </summary>
    public StoreStatus WaitDurable(long address)
    {
        if (address < 0 || _options.Durability != DurabilityMode.Sync || Log is not { } log) return StoreStatus.Ok;
        return log.WaitDurable(address) ? StoreStatus.Ok : StoreStatus.DiskFull;
    }

    /// <summary>
    /// Opens a failed log again at its last durable commit and returns the new log position: every
    /// write the old log lost is in the store, so a checkpoint from that position (which must
    /// succeed before writes are taken again) holds them. The caller keeps writers out meanwhile.
    /// </summary>
    public (long LogStart, long Generation) ReopenLog()
    {
        lock (_checkpointGate)
        {
            if (Log is { Failed: true } log)
            {
                log.Reopen();
                Interlocked.Increment(ref _logGeneration);
                _logLost = true;
            }
            return (LogTail, LogGeneration);
        }
    }

    /// <summary>
    /// Takes a checkpoint. Every log record before <paramref name="logStart"/> must already be
    /// applied to the store (the node captures it while holding every partition's lock); records
    /// from there on are replayed after this checkpoint, which is safe because replaying a key's
    /// puts and deletes in order ends in its last state whatever the checkpoint already holds.
    /// </summary>
    public CheckpointReport Checkpoint(long logStart) => Checkpoint(logStart, LogGeneration, dropOlder: false);

    /// <summary>
    /// A checkpoint from a log position read in <paramref name="generation"/> (see <see cref="Checkpoint(long)"/>);
    /// <see cref="DiskFullException"/> when the log was reopened since, or the disk refused the checkpoint's files.
    /// </summary>
    public CheckpointReport Checkpoint(long logStart, long generation) => Checkpoint(logStart, generation, dropOlder: false);

    CheckpointReport Checkpoint(long logStart, long generation, bool dropOlder)
    {
        lock (_checkpointGate)
        {
            // A failed log's tail is past what it holds: a checkpoint from there would skip the
            // records the reopened log writes at the same addresses.
            if (Log is { Failed: true } failed) throw new DiskFullException($"no checkpoint while the log cannot be written: {failed.Failure!.Message}");
            if (generation != LogGeneration) throw new DiskFullException("the log was reopened after a failed write since this checkpoint's position was read");
            var started = Stopwatch.StartNew();
            long errors = _parts.Errors.Errors;
            var (done, token) = _kv.TakeFullCheckpointAsync(CheckpointType.Snapshot).AsTask().GetAwaiter().GetResult();
            if (!done) throw new InvalidOperationException("the store refused to start a checkpoint (another one is running)");
            CheckpointManifest manifest;
            try
            {
                if (_parts.Errors.Errors != errors)
                    throw new DiskFullException($"the checkpoint's files could not be written: {_parts.Errors.LastError}");
                manifest = CheckpointCatalog.Write(_options.CheckpointDirectory, ++_sequence, token, logStart);
            }
            catch (IOException)
            {
                // Give the space back; the previous checkpoint, and the log behind it, stay as they were.
                CheckpointCatalog.DeleteFiles(_options.CheckpointDirectory, token);
                throw;
            }
            _kept.Insert(0, manifest);
            int keep = dropOlder ? 1 : _options.CheckpointsKept;
            foreach (var old in _kept.Skip(keep)) CheckpointCatalog.Delete(_options.CheckpointDirectory, old);
            _kept = [.. _kept.Take(keep)];
            // Keep the log back to the oldest kept checkpoint, so falling back to it loses nothing.
            long truncate = _kept[^1].LogStart;
            if (Log is not null)
            {
                Log.TruncateUntil(truncate);
                Log.CommitNow();
            }
            Interlocked.Increment(ref _checkpoints);
            // Every write the failed log lost is in this checkpoint: writes are taken again.
            if (generation == LogGeneration) _logLost = false;
            return new CheckpointReport(token, logStart, truncate, started.Elapsed);
        }
    }

    /// <summary>Counters for the node's stats.</summary>
    public IEnumerable<KeyValuePair<string, long>> Stats()
    {
        yield return new("store_log_bytes", _kv.Log.TailAddress - _kv.Log.BeginAddress);
        yield return new("store_checkpoints", Interlocked.Read(ref _checkpoints));
        yield return new("disk_full", WriteStatus == StoreStatus.DiskFull ? 1 : 0);
        if (Log is not null)
        {
            yield return new("aof_bytes", Log.TailAddress - Log.BeginAddress);
            yield return new("aof_uncommitted_bytes", Math.Max(0, Log.TailAddress - Log.CommittedUntilAddress));
            yield return new("aof_commits", Log.Commits);
            yield return new("aof_durable_until", Log.DurableUntil);
        }
    }

    /// <summary>Commits the log and closes the store; a clean shutdown checkpoints first (see <see cref="Dispose(bool)"/>).</summary>
    public void Dispose() => Dispose(checkpoint: false);

    /// <summary>Closes the store, after a last checkpoint when <paramref name="checkpoint"/> (callers stop writers first).</summary>
    public void Dispose(bool checkpoint)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (checkpoint)
            {
                // After a failed write the log is reopened first: the checkpoint then holds what
                // the log lost (async writes already acknowledged among them).
                var (logStart, generation) = ReopenLog();
                Checkpoint(logStart, generation);
            }
        }
        finally
        {
            lock (_sessions)
            {
                foreach (var s in _sessions) s.Dispose();
                _sessions.Clear();
            }
            Log?.Dispose();
            _kv.Dispose();
            _parts.Dispose();
        }
    }
}
