using RdmaKv.Admin;
using RdmaKv.Protocol;

namespace RdmaKv.Server;

/// <summary>What a node has served, counted with interlocked adds from every connection thread.</summary>
public sealed class NodeCounters
{
    public long Puts;
    public long Deletes;
    public long FallbackGets;

    /// <summary>Requests for partitions another node owns, answered WrongPartition (clients then refresh their map).</summary>
    public long WrongPartition;
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
                case "lookups": Interlocked.Add(ref ClientLookups, count); break;
                case "cache_hits": Interlocked.Add(ref ClientCacheHits, count); break;
                case "retries": Interlocked.Add(ref ClientRetries, count); break;
                case "checksum_failures": Interlocked.Add(ref ClientChecksumFailures, count); break;
                case "fallbacks": Interlocked.Add(ref ClientFallbacks, count); break;
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
        ["puts"] = Volatile.Read(ref Puts),
        ["deletes"] = Volatile.Read(ref Deletes),
        ["fallback_gets"] = Volatile.Read(ref FallbackGets),
        ["wrong_partition"] = Volatile.Read(ref WrongPartition),
        ["multi_puts"] = Volatile.Read(ref MultiPuts),
        ["errors"] = Volatile.Read(ref Errors),
        ["bad_frames"] = Volatile.Read(ref BadFrames),
        ["connections_total"] = Volatile.Read(ref Connections),
        ["connections_open"] = Volatile.Read(ref ConnectionsOpen),
        ["bytes_in"] = Volatile.Read(ref BytesIn),
        ["admin_gets"] = Volatile.Read(ref AdminGets),
        ["admin_puts"] = Volatile.Read(ref AdminPuts),
        ["admin_deletes"] = Volatile.Read(ref AdminDeletes),
        ["client_lookups"] = Volatile.Read(ref ClientLookups),
        ["client_one_sided_gets"] = Volatile.Read(ref ClientLookups) - Volatile.Read(ref ClientFallbacks),
        ["client_cache_hits"] = Volatile.Read(ref ClientCacheHits),
        ["client_retries"] = Volatile.Read(ref ClientRetries),
        ["client_checksum_failures"] = Volatile.Read(ref ClientChecksumFailures),
        ["client_fallbacks"] = Volatile.Read(ref ClientFallbacks),
    };
}
