using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>
/// The append-only log (a FasterLog in <c>DATA/aof</c>): every put and delete is appended before
/// its reply. A committer thread makes it durable: every <see cref="DurableStoreOptions.CommitInterval"/>
/// in async mode; in sync mode as soon as a writer waits, and again at once for the writers that
/// arrived during a commit, so they share one.
/// </summary>
sealed class AppendOnlyLog : IDisposable
{
    readonly FasterLogSettings _settings;
    readonly FasterLog _log;
    readonly DurabilityMode _mode;
    readonly TimeSpan _interval;
    readonly AutoResetEvent _wake = new(false);
    readonly Thread _committer;
    volatile bool _stopping;
    long _commits;

    public AppendOnlyLog(DurableStoreOptions options)
    {
        System.IO.Directory.CreateDirectory(options.LogDirectory);
        _mode = options.Durability;
        _interval = options.CommitInterval;
        _settings = new FasterLogSettings(options.LogDirectory)
        {
            PageSize = 1L << 22,          // a record (up to 1 MiB and its key) fits a page
            MemorySize = 1L << 25,
            SegmentSize = 1L << 26,       // truncation frees whole 64 MiB segments
            LogChecksum = LogChecksumType.PerEntry,
            AutoRefreshSafeTailAddress = false,
        };
        _log = new FasterLog(_settings);
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "rdmakv-aof-commit" };
        _committer.Start();
    }

    public long BeginAddress => _log.BeginAddress;
    public long TailAddress => _log.TailAddress;
    public long CommittedUntilAddress => _log.CommittedUntilAddress;
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Appends one record; returns its address. Callers serialize per partition, the log is thread-safe.</summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        return _log.Enqueue(record);
    }

    /// <summary>Blocks until the record at <paramref name="address"/> is committed (sync mode's reply path).</summary>
    public void WaitDurable(long address)
    {
        if (address < _log.CommittedUntilAddress) return;
        _wake.Set();
        _log.WaitForCommit(address + 1);
    }

    /// <summary>Commits everything appended so far and waits for it.</summary>
    public void CommitNow() => _log.Commit(spinWait: true);

    /// <summary>Drops records before <paramref name="address"/>; takes effect with the next commit.</summary>
    public void TruncateUntil(long address)
    {
        if (address > _log.BeginAddress) _log.TruncateUntil(address);
    }

    /// <summary>
    /// Replays committed records from <paramref name="from"/>. Stops at the first damaged record
    /// (a torn tail) and returns its address; null when the log was read to its end.
    /// </summary>
    public long? Replay(long from, Action<LogOp, ReadOnlySpan<byte>, ReadOnlySpan<byte>> apply, out long records)
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
                if (!LogRecord.TryRead(entry.AsSpan(0, length), out LogOp op, out var key, out var value)) return at;
                apply(op, key, value);
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

    void CommitLoop()
    {
        while (!_stopping)
        {
            if (_mode == DurabilityMode.Sync) _wake.WaitOne();
            else _wake.WaitOne(_interval);
            if (_log.TailAddress > _log.CommittedUntilAddress)
            {
                try
                {
                    // Block, don't spin: on a small machine a spinning committer takes a core from
                    // the threads that apply writes for the whole of each fsync.
                    _log.CommitAsync().AsTask().GetAwaiter().GetResult();
                    Interlocked.Increment(ref _commits);
                }
                catch (Exception) when (_stopping)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _committer.Join();
        _log.Commit(spinWait: true);
        _log.Dispose();
        _settings.Dispose();
        _wake.Dispose();
    }
}
