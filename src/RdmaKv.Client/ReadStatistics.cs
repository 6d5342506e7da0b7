using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>
/// What one thread's GETs counted, as of one moment: the one-sided lookups, how many a cached
/// location answered in one read, the retries and checksum failures on the way (a writer was
/// changing what the lookup read), the extents found superseded, the refreshes of a node's regions
/// after they moved or grew, and the fallbacks, GETs the node answered because the one-sided read
/// gave up. Nodes never see one-sided reads; clients report these counters to them.
/// </summary>
public readonly record struct ReadStatistics(
    long Lookups, long CacheHits, long Retries, long ChecksumFailures, long SupersededSeen, long Refreshes, long Fallbacks)
{
    /// <summary>What was counted between <paramref name="before"/> and <paramref name="after"/>.</summary>
    public static ReadStatistics operator -(ReadStatistics after, ReadStatistics before) => new(
        after.Lookups - before.Lookups, after.CacheHits - before.CacheHits, after.Retries - before.Retries,
        after.ChecksumFailures - before.ChecksumFailures, after.SupersededSeen - before.SupersededSeen,
        after.Refreshes - before.Refreshes, after.Fallbacks - before.Fallbacks);

    internal static ReadStatistics Of(ReaderContext reader) => new(
        reader.Lookups, reader.CacheHits, reader.Retries, reader.ChecksumFailures, reader.SupersededSeen, reader.Refreshes, reader.Fallbacks);
}
