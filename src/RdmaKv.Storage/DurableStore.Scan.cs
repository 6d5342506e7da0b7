using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>
/// One live key of a scan with its newest value and that value's expiry: milliseconds since the
/// Unix epoch (UTC), 0 when it never expires (every value written before expiry existed).
/// </summary>
public delegate void EntryVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt);

/// <summary>Scans of the store log: every live key with its value (the region rebuild at start), every key written (a slot's copy).</summary>
public sealed partial class DurableStore
{
    /// <summary>
    /// Calls <paramref name="visit"/> with every live key, its newest value and that value's
    /// expiry (for rebuilding regions at start; expired values are visited too). Scans the whole
    /// log, memory and disk, and keeps a record only when the index leads to it (see
    /// <see cref="StoreSession.IsLatest"/>). FASTER's distinct iterator (<c>Iterate()</c>) is not
    /// used: in 2.6.5 it skipped about 7% of the keys of a million-key store (measured with
    /// 100-byte and 1 KiB values).
    /// </summary>
    public long ForEach(EntryVisitor visit) => ForEach(visit, 1);

    /// <summary>As <see cref="ForEach(EntryVisitor)"/>, without the expiry.</summary>
    public long ForEach(Action<ReadOnlySpan<byte>, ReadOnlySpan<byte>> visit) => ForEach((key, value, _) => visit(key, value), 1);

    /// <summary>As <see cref="ForEach(EntryVisitor, int)"/>, without the expiry.</summary>
    public long ForEach(Action<ReadOnlySpan<byte>, ReadOnlySpan<byte>> visit, int threads) => ForEach((key, value, _) => visit(key, value), threads);

    /// <summary>
    /// As <see cref="ForEach(EntryVisitor)"/>, with the log cut into <paramref name="threads"/>
    /// ranges at page boundaries (a record never crosses one) and each range scanned on its own
    /// thread with its own session: <paramref name="visit"/> is called concurrently and must be
    /// thread-safe. Only while nothing writes (at start).
    /// </summary>
    public long ForEach(EntryVisitor visit, int threads)
    {
        var ranges = Ranges(_kv.Log.BeginAddress, _kv.Log.TailAddress, KvParts.PageBytes, Math.Max(1, threads));
        if (ranges.Count == 1) return Scan(ranges[0].Begin, ranges[0].End, visit);
        long total = 0;
        try
        {
            Parallel.ForEach(ranges, new ParallelOptions { MaxDegreeOfParallelism = ranges.Count },
                range => Interlocked.Add(ref total, Scan(range.Begin, range.End, visit)));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The caller sees what a visit threw, as with one thread.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return total;
    }

    /// <summary>[<paramref name="begin"/>, <paramref name="end"/>) cut into at most <paramref name="count"/> ranges whose inner bounds are page starts.</summary>
    public static List<(long Begin, long End)> Ranges(long begin, long end, long pageSize, int count)
    {
        var ranges = new List<(long, long)>(count);
        long pages = (end - begin + pageSize - 1) / pageSize;
        long per = Math.Max(1, (pages + count - 1) / count);
        long from = begin;
        while (from < end)
        {
            long to = Math.Min(end, (from / pageSize + per) * pageSize);
            ranges.Add((from, to));
            from = to;
        }
        if (ranges.Count == 0) ranges.Add((begin, end));
        return ranges;
    }

    long Scan(long begin, long end, EntryVisitor visit)
    {
        long n = 0;
        using var session = new StoreSession(this, _kv);
        using var scan = _kv.Log.Scan(begin, end);
        while (scan.GetNext(out RecordInfo info))
        {
            if (info.Tombstone || info.Invalid) continue;
            ref SpanByte key = ref scan.GetKey();
            ref SpanByte stored = ref scan.GetValue();
            var value = stored.AsReadOnlySpan();
            long expiresAt = stored.ExtraMetadata;
            if (!session.IsLatest(ref key, scan.CurrentAddress, value, expiresAt)) continue;
            visit(key.AsReadOnlySpan(), value, expiresAt);
            n++;
        }
        return n;
    }

    /// <summary>
    /// The key of every put record in the log, oldest first, with repeats and keys deleted since
    /// (a partition move filters them and reads each key's value under its lock). Safe while
    /// writers run: a record's key never changes once written.
    /// </summary>
    public void ForEachKey(Action<ReadOnlySpan<byte>> visit)
    {
        using var scan = _kv.Log.Scan(_kv.Log.BeginAddress, _kv.Log.TailAddress);
        while (scan.GetNext(out RecordInfo info))
        {
            if (info.Tombstone || info.Invalid) continue;
            visit(scan.GetKey().AsReadOnlySpan());
        }
    }
}
