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
    long CuckooMoves)
{
    public double LoadFactor => (double)Count / (BucketCount * Bucket.SlotCount);
}
