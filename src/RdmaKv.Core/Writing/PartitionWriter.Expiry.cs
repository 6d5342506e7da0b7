namespace RdmaKv.Core;

/// <summary>The bounded sweep for values whose expiry has passed.</summary>
public sealed partial class PartitionWriter
{
    ulong _sweepBucket;

    /// <summary>
    /// Looks at up to <paramref name="buckets"/> buckets from where the last call stopped (wrapping
    /// around the index) and adds to <paramref name="expired"/> the key of every resident value
    /// whose expiry is at or before <paramref name="now"/>. It changes nothing: the caller deletes
    /// them through its usual path (logged, replicated as a node does). Values evicted to the cold
    /// tier are not seen here; a read that finds one expired removes it.
    /// </summary>
    public void FindExpired(int buckets, long now, List<byte[]> expired)
    {
        Region region = _region;
        ulong count = (ulong)region.Header.BucketCount;
        for (int n = 0; n < buckets && (ulong)n < count; n++)
        {
            ulong b = _sweepBucket++ % count;
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry entry = region.ReadEntry(b, i);
                if (!entry.IsResident || !InBounds(region, entry, out int keyLength, out _)) continue;
                ref ExtentHeader e = ref region.ExtentAt(entry.ExtentOffset);
                if (Expiry.HasPassed(e.ExpiresAt, now))
                    expired.Add(region.Bytes(entry.ExtentOffset + ExtentHeader.Size, keyLength).ToArray());
            }
        }
    }
}
