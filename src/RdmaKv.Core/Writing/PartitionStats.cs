namespace RdmaKv.Core;

/// <summary>A snapshot of one partition for stats and the admin plane.</summary>
public readonly record struct PartitionStats(
    int Partition,
    ulong Generation,
    long BucketCount,
    long Count,
    long RegionBytes,
    ExtentAreaStats Extents,
    long Grows,
    long CuckooMoves,
    long ColdCount = 0,
    long Evictions = 0,
    long Promotions = 0)
{
    public double LoadFactor => (double)Count / (BucketCount * Bucket.EntryCount);
}
