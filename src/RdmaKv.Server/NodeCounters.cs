using RdmaKv.Admin;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Server;

/// <summary>What a node has served, counted with interlocked adds from every connection thread.</summary>
public sealed class NodeCounters
{
    public long Puts;
    public long Deletes;
    public long FallbackGets;

    /// <summary>Requests for slots another node owns, answered WrongSlot (clients then refresh their map).</summary>
    public long WrongSlot;
    public long MultiPuts;
    public long Errors;
    public long BadFrames;
    public long Connections;
    public long ConnectionsOpen;
    public long BytesIn;
    public long AdminGets;
    public long AdminPuts;
    public long AdminDeletes;
    public long ReplicaWrites;
    public long ReplicaFailures;

    // What clients report of their one-sided reads (the node never sees those): see ClientReport.
    public long ClientLookups;
    public long ClientCacheHits;
    public long ClientRetries;
    public long ClientChecksumFailures;
    public long ClientFallbacks;

    /// <summary>
    /// The most one count of one report may be: far above what a reading thread does between
    /// reports (about 10^7 lookups a second), far below what could overflow a total.
    /// </summary>
    public const long MaxReportedCount = 1L << 48;

    /// <summary>
    /// Adds a client's report; unknown names are ignored. A report with a negative count or one
    /// above <see cref="MaxReportedCount"/> is refused whole (false) and adds nothing. Totals
    /// saturate at <see cref="long.MaxValue"/> instead of wrapping.
    /// </summary>
    public bool AddClientReport(IReadOnlyDictionary<string, long> report)
    {
        foreach (var (_, count) in report)
            if (count is < 0 or > MaxReportedCount) return false;
        foreach (var (name, count) in report)
        {
            switch (name)
            {
                case StatNames.Reported.Lookups: AddSaturating(ref ClientLookups, count); break;
                case StatNames.Reported.CacheHits: AddSaturating(ref ClientCacheHits, count); break;
                case StatNames.Reported.Retries: AddSaturating(ref ClientRetries, count); break;
                case StatNames.Reported.ChecksumFailures: AddSaturating(ref ClientChecksumFailures, count); break;
                case StatNames.Reported.Fallbacks: AddSaturating(ref ClientFallbacks, count); break;
            }
        }
        return true;
    }

    static void AddSaturating(ref long total, long count)
    {
        long seen = Volatile.Read(ref total);
        while (true)
        {
            long next = seen > long.MaxValue - count ? long.MaxValue : seen + count;
            long was = Interlocked.CompareExchange(ref total, next, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    /// <summary>Time from a decoded request to its encoded reply, by operation.</summary>
    public LatencyHistogram PutLatency { get; } = new();
    public LatencyHistogram DeleteLatency { get; } = new();
    public LatencyHistogram FallbackGetLatency { get; } = new();
    public LatencyHistogram MultiPutLatency { get; } = new();

    /// <summary>The last requests that failed, with why, for the dashboard.</summary>
    public RecentErrorLog RecentErrors { get; } = new();

    public IReadOnlyList<(string Operation, LatencyHistogram Histogram)> Latencies =>
        [("put", PutLatency), ("delete", DeleteLatency), ("fallback_get", FallbackGetLatency), ("multi_put", MultiPutLatency)];

    /// <summary>Records how long a request of <paramref name="type"/> took since <paramref name="startTimestamp"/>.</summary>
    public void RecordLatency(MessageType type, long startTimestamp)
    {
        var histogram = type switch
        {
            MessageType.Put => PutLatency,
            MessageType.Delete => DeleteLatency,
            MessageType.Get => FallbackGetLatency,
            MessageType.MultiPut => MultiPutLatency,
            _ => null,
        };
        histogram?.RecordSince(startTimestamp);
    }

    /// <summary>Counts a failed request and keeps why for the recent-errors list.</summary>
    public void CountError(string operation, string why)
    {
        Interlocked.Increment(ref Errors);
        RecentErrors.Add(operation, why);
    }

    public Dictionary<string, long> Snapshot() => new()
    {
        [StatNames.Puts] = Volatile.Read(ref Puts),
        [StatNames.Deletes] = Volatile.Read(ref Deletes),
        [StatNames.FallbackGets] = Volatile.Read(ref FallbackGets),
        [StatNames.WrongSlot] = Volatile.Read(ref WrongSlot),
        [StatNames.MultiPuts] = Volatile.Read(ref MultiPuts),
        [StatNames.Errors] = Volatile.Read(ref Errors),
        [StatNames.BadFrames] = Volatile.Read(ref BadFrames),
        [StatNames.ConnectionsTotal] = Volatile.Read(ref Connections),
        [StatNames.ConnectionsOpen] = Volatile.Read(ref ConnectionsOpen),
        [StatNames.BytesIn] = Volatile.Read(ref BytesIn),
        [StatNames.AdminGets] = Volatile.Read(ref AdminGets),
        [StatNames.AdminPuts] = Volatile.Read(ref AdminPuts),
        [StatNames.AdminDeletes] = Volatile.Read(ref AdminDeletes),
        [StatNames.ReplicaWrites] = Volatile.Read(ref ReplicaWrites),
        [StatNames.ReplicaFailures] = Volatile.Read(ref ReplicaFailures),
        [StatNames.ClientLookups] = Volatile.Read(ref ClientLookups),
        [StatNames.ClientOneSidedGets] = Volatile.Read(ref ClientLookups) - Volatile.Read(ref ClientFallbacks),
        [StatNames.ClientCacheHits] = Volatile.Read(ref ClientCacheHits),
        [StatNames.ClientRetries] = Volatile.Read(ref ClientRetries),
        [StatNames.ClientChecksumFailures] = Volatile.Read(ref ClientChecksumFailures),
        [StatNames.ClientFallbacks] = Volatile.Read(ref ClientFallbacks),
    };
}
