namespace RdmaKv.Core;

/// <summary>
/// The names of the node's counters (its stats map, /api/stats, /metrics) and of the counters
/// clients report: written once here, used by the node that counts, the client that reports and
/// the admin plane that shows them.
/// </summary>
public static class StatNames
{
    public const string Puts = "puts";
    public const string Deletes = "deletes";
    public const string FallbackGets = "fallback_gets";
    public const string WrongSlot = "wrong_slot";
    public const string MultiPuts = "multi_puts";
    public const string Errors = "errors";
    public const string BadFrames = "bad_frames";
    public const string ConnectionsTotal = "connections_total";
    public const string ConnectionsOpen = "connections_open";
    public const string BytesIn = "bytes_in";
    public const string AdminGets = "admin_gets";
    public const string AdminPuts = "admin_puts";
    public const string AdminDeletes = "admin_deletes";
    public const string Keys = "keys";
    public const string RegionBytes = "region_bytes";
    public const string Grows = "grows";

    /// <summary>Writes this node applied as a backup, sent by their slots' primaries.</summary>
    public const string ReplicaWrites = "replica_writes";

    /// <summary>Client writes this node could not replicate (a backup unreachable or refusing): answered Unavailable or WrongSlot.</summary>
    public const string ReplicaFailures = "replica_failures";

    /// <summary>What each reading thread reports (<c>ClientReport</c>), by these names.</summary>
    public static class Reported
    {
        public const string Lookups = "lookups";
        public const string CacheHits = "cache_hits";
        public const string Retries = "retries";
        public const string ChecksumFailures = "checksum_failures";
        public const string Fallbacks = "fallbacks";
    }

    /// <summary>The node's totals of what clients reported.</summary>
    public const string ClientLookups = "client_lookups";
    public const string ClientOneSidedGets = "client_one_sided_gets";
    public const string ClientCacheHits = "client_cache_hits";
    public const string ClientRetries = "client_retries";
    public const string ClientChecksumFailures = "client_checksum_failures";
    public const string ClientFallbacks = "client_fallbacks";
}
