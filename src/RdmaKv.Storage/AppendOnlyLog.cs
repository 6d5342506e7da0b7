using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>
/// Applies one replayed record: <paramref name="op"/> is <see cref="LogOp.Put"/> or
/// <see cref="LogOp.Delete"/>; <paramref name="expiresAt"/> is a put's expiry in milliseconds since
/// the Unix epoch (UTC), 0 when it never expires.
/// </summary>
public delegate void LogApply(LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt);

/// <summary>
/// The append-only log (a FasterLog in <c>DATA/aof</c>): every put and delete is appended before
/// its reply. A committer thread makes it durable: every <see cref="DurableStoreOptions.CommitInterval"/>
/// in async mode; in sync mode as soon as a writer waits, and again at once for the writers that
/// arrived during a commit, so they share one. A record counts as durable once a commit's metadata
/// covering it is on disk (<see cref="DurableUntil"/>, moved by <see cref="LogCommitFiles"/>).
/// When the disk refuses a page or a commit the log is <see cref="Failed"/>: FasterLog cannot go
/// on after that, so it takes no more records, waits for them report the failure and commits
/// throw <see cref="DiskFullException"/> until <see cref="Reopen"/> opens it again at its last
/// durable commit.
/// </summary>
sealed class AppendOnlyLog : IDisposable
{
    readonly DurableStoreOptions _options;
    readonly DurabilityMode _mode;
    readonly TimeSpan _interval;
    readonly AutoResetEvent _wake = new(false);
    readonly object _gate = new(); // guards _durableUntil and _failure; waiters wait on it (Monitor)
    readonly Thread _committer;
    FasterLogSettings _settings = null!;
    FasterLog _log = null!;
    volatile bool _stopping;
    long _durableUntil;
    Exception? _failure;
    long _commits;

    public AppendOnlyLog(DurableStoreOptions options, List<string> warnings)
    {
        System.IO.Directory.CreateDirectory(options.LogDirectory);
        LogCommitFiles.CheckBeforeOpen(options.LogDirectory, warnings);
        _options = options;
        _mode = options.Durability;
        _interval = options.CommitInterval;
        Open();
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "rdmakv-aof-commit" };
        _committer.Start();
    }

    void Open()
    {
        var commits = new LogCommitFiles(_options.LogDirectory, Committed, Fail);
        commits.MarkIfFresh(_options.LogDirectory);
        _settings = new FasterLogSettings(_options.LogDirectory)
        {
            PageSize = 1L << 22,          // a record (up to 1 MiB and its key) fits a page
            MemorySize = 1L << 25,
            SegmentSize = 1L << 26,       // truncation frees whole 64 MiB segments
            LogChecksum = LogChecksumType.PerEntry,
            AutoRefreshSafeTailAddress = false,
            LogCommitManager = commits,
        };
        _log = new FasterLog(_settings);
        lock (_gate)
        {
            _durableUntil = _log.CommittedUntilAddress;
            _failure = null;
        }
    }

    /// <summary>FasterLog's first address: a log that begins later was cut behind a checkpoint.</summary>
    public const long FirstAddress = 64;

    public long BeginAddress => _log.BeginAddress;
    public long TailAddress => _log.TailAddress;
    public long CommittedUntilAddress => Interlocked.Read(ref _durableUntil);
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Why the log cannot take writes (the disk refused one), or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public bool Failed => Failure is not null;

    /// <summary>The address up to which every record is on disk with a commit covering it.</summary>
    public long DurableUntil => Interlocked.Read(ref _durableUntil);

    /// <summary>
    /// Appends one record; returns its address. Callers serialize per partition, the log is
    /// thread-safe. A failed log takes no more records: the address returned then never becomes
    /// durable (the record is in the store, which the repair checkpoints, see <see cref="Reopen"/>).
    /// </summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        while (!Failed)
        {
            try
            {
                // A full buffer drains as pages are flushed; it never does once a flush failed.
                if (_log.TryEnqueue(record, out long address)) return address;
            }
            catch (CommitFailureException e)
            {
                Fail(e);
                break;
            }
            Thread.Yield();
        }
        return _log.TailAddress;
    }

    /// <summary>
    /// Blocks until the record at <paramref name="address"/> is committed (sync mode's reply path);
    /// false when the log failed first: the record may or may not be on disk.
    /// </summary>
    public bool WaitDurable(long address)
    {
        if (address < DurableUntil) return true;
        lock (_gate)
        {
            while (_durableUntil <= address && _failure is null && !_stopping)
            {
                _wake.Set();
                Monitor.Wait(_gate);
            }
            return _durableUntil > address;
        }
    }

    /// <summary>Commits everything appended so far, and a new begin address, and waits for it.</summary>
    public void CommitNow()
    {
        if (Failure is { } failure) throw new DiskFullException(failure.Message, failure);
        try
        {
            _log.CommitAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (CommitFailureException e)
        {
            Fail(e);
        }
        if (Failure is { } failed) throw new DiskFullException(failed.Message, failed);
    }

    /// <summary>Drops records before <paramref name="address"/>; takes effect with the next commit.</summary>
    public void TruncateUntil(long address)
    {
        if (address > _log.BeginAddress) _log.TruncateUntil(address);
    }

    /// <summary>
    /// Opens a failed log again at its last durable commit; records after it are dropped (they are
    /// in the store, which the caller checkpoints next). No append may run meanwhile.
    /// </summary>
    public void Reopen()
    {
        if (!Failed) return;
        _log.Dispose();
        _settings.Dispose();
        Open();
    }

    /// <summary>
    /// Replays committed records from <paramref name="from"/>. Stops at the first damaged record
    /// (a torn tail) and returns its address; null when the log was read to its end.
    /// </summary>
    public long? Replay(long from, LogApply apply, out long records)
    {
        records = 0;
        long start = Math.Max(from, _log.BeginAddress);
        long end = _log.CommittedUntilAddress;
        if (start >= end) return null;
        using var iterator = _log.Scan(start, end);
        long cut = start; // the address after the last good record
        try
        {
            while (iterator.GetNext(out byte[] entry, out int length, out long at, out long next))
            {
                if (!LogRecord.TryRead(entry.AsSpan(0, length), out LogOp op, out var key, out var value, out long expiresAt)) return at;
                apply(op, key, value, expiresAt);
                records++;
                cut = next;
            }
        }
        catch (FasterException)
        {
            return cut; // a checksum or length that does not hold: the record there is torn
        }
        return null;
    }

    void Committed(long until)
    {
        lock (_gate)
        {
            if (until > _durableUntil) _durableUntil = until;
            Monitor.PulseAll(_gate);
        }
    }

    void Fail(Exception e)
    {
        lock (_gate)
        {
            _failure ??= new DiskFullException($"the log in {_options.LogDirectory} cannot be written ({e.Message})", e);
            Monitor.PulseAll(_gate);
        }
    }

    void CommitLoop()
    {
        while (!_stopping)
        {
            if (_mode == DurabilityMode.Sync) _wake.WaitOne();
            else _wake.WaitOne(_interval);
            var log = _log;
            if (Failed || log.TailAddress <= DurableUntil) continue;
            try
            {
                // Block, don't spin: on a small machine a spinning committer takes a core from
                // the threads that apply writes for the whole of each fsync.
                log.CommitAsync().AsTask().GetAwaiter().GetResult();
                Interlocked.Increment(ref _commits);
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (Exception e) when (e is CommitFailureException or FasterException or ObjectDisposedException)
            {
                // A failed flush (ENOSPC and the like): FasterLog refuses every commit after it.
                // ObjectDisposed: the log was reopened under this commit.
                if (ReferenceEquals(log, _log)) Fail(e);
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        lock (_gate) Monitor.PulseAll(_gate);
        _committer.Join();
        if (!Failed)
        {
            try
            {
                _log.Commit(spinWait: true);
            }
            catch (CommitFailureException)
            {
                // the records after the last commit are not on disk: as after a crash
            }
        }
        _log.Dispose();
        _settings.Dispose();
        _wake.Dispose();
    }
}
