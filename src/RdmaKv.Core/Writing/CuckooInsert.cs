namespace RdmaKv.Core;

/// <summary>
/// Two-choice insertion with bounded cuckoo displacement. A breadth-first search finds the
/// shortest chain of moves that ends in an empty entry; the chain is carried out from its far end,
/// so every moved entry is copied into its other bucket before its old place is overwritten and
/// each key stays visible in one of its two buckets throughout.
/// </summary>
static class CuckooInsert
{
    readonly record struct Step(ulong Bucket, int Parent, int EntryInParent);

    /// <summary>Inserts <paramref name="entry"/> into one of its two buckets; false when no chain is found within the search bound.</summary>
    public static bool TryInsert(Region region, ulong primary, IndexEntry entry, int searchLimit, out int moves)
    {
        moves = 0;
        ulong mask = region.Header.BucketMask;
        ulong secondary = KeyHash.AlternateBucket(primary, entry.Fingerprint, mask);
        if (TryPlace(region, primary, entry) || TryPlace(region, secondary, entry)) return true;

        var steps = new List<Step>(Math.Min(searchLimit, 64)) { new(primary, -1, -1), new(secondary, -1, -1) };
        var seen = new HashSet<ulong> { primary, secondary }; // a bucket twice on one chain would move an entry twice
        for (int head = 0; head < steps.Count && steps.Count < searchLimit; head++)
        {
            ulong bucket = steps[head].Bucket;
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                IndexEntry victim = region.ReadEntry(bucket, i);
                ulong other = KeyHash.AlternateBucket(bucket, victim.Fingerprint, mask);
                int free = EmptyEntry(region, other);
                if (free >= 0)
                {
                    moves = Execute(region, steps, head, i, other, free, entry);
                    return true;
                }
                if (seen.Add(other)) steps.Add(new Step(other, head, i));
            }
        }
        return false;
    }

    static int Execute(Region region, List<Step> steps, int node, int entryIndex, ulong target, int targetEntry, IndexEntry inserted)
    {
        int moves = 0;
        // Walk back from the empty entry: move each victim forward, then reuse its old place.
        while (true)
        {
            ulong bucket = steps[node].Bucket;
            region.PublishEntry(target, targetEntry, region.ReadEntry(bucket, entryIndex));
            moves++;
            if (steps[node].Parent < 0) break;
            (target, targetEntry) = (bucket, entryIndex);
            entryIndex = steps[node].EntryInParent;
            node = steps[node].Parent;
        }
        region.PublishEntry(steps[node].Bucket, entryIndex, inserted);
        return moves;
    }

    static bool TryPlace(Region region, ulong bucket, IndexEntry entry)
    {
        int free = EmptyEntry(region, bucket);
        if (free < 0) return false;
        region.PublishEntry(bucket, free, entry);
        return true;
    }

    static int EmptyEntry(Region region, ulong bucket)
    {
        for (int i = 0; i < Bucket.EntryCount; i++)
            if (region.ReadEntry(bucket, i).IsEmpty) return i;
        return -1;
    }
}
