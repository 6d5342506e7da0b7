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

    // What clients report of their one-sided reads (the node never sees those): see ClientReport.
    public long ClientLookups;
    public long ClientCacheHits;
    public long ClientRetries;
    public long ClientChecksumFailures;
    public long ClientFallbacks;

    /// <summary>Adds a client's report; unknown names and negative counts are ignored.</summary>
    public void AddClientReport(IReadOnlyDictionary<string, long> report)
    {
        foreach (var (name, count) in report)
        {
            if (count <= 0) continue;
            switch (name)
            {
                case StatNames.Reported.Lookups: Interlocked.Add(ref ClientLookups, count); break;
                case StatNames.Reported.CacheHits: Interlocked.Add(ref ClientCacheHits, count); break;
                case StatNames.Reported.Retries: Interlocked.Add(ref ClientRetries, count); break;
                case StatNames.Reported.ChecksumFailures: Interlocked.Add(ref ClientChecksumFailures, count); break;
                case StatNames.Reported.Fallbacks: Interlocked.Add(ref ClientFallbacks, count); break;
            }
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
        [StatNames.ClientLookups] = Volatile.Read(ref ClientLookups),
        [StatNames.ClientOneSidedGets] = Volatile.Read(ref ClientLookups) - Volatile.Read(ref ClientFallbacks),
        [StatNames.ClientCacheHits] = Volatile.Read(ref ClientCacheHits),
        [StatNames.ClientRetries] = Volatile.Read(ref ClientRetries),
        [StatNames.ClientChecksumFailures] = Volatile.Read(ref ClientChecksumFailures),
        [StatNames.ClientFallbacks] = Volatile.Read(ref ClientFallbacks),
    };
}
