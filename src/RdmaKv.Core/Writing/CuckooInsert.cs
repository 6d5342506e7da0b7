namespace RdmaKv.Core;

/// <summary>
/// Two-choice insertion with bounded cuckoo displacement. A breadth-first search finds the
/// shortest chain of moves that ends in an empty slot; the chain is carried out from its far end,
/// so every moved slot is copied into its other bucket before its old place is overwritten and
/// each key stays visible in one of its two buckets throughout.
/// </summary>
static class CuckooInsert
{
    readonly record struct Step(ulong Bucket, int Parent, int SlotInParent);

    /// <summary>Inserts <paramref name="slot"/> into one of its two buckets; false when no chain is found within the search bound.</summary>
    public static bool TryInsert(Region region, ulong primary, Slot slot, int searchLimit, out int moves)
    {
        moves = 0;
        ulong mask = region.Header.BucketMask;
        ulong secondary = KeyHash.AlternateBucket(primary, slot.Fingerprint, mask);
        if (TryPlace(region, primary, slot) || TryPlace(region, secondary, slot)) return true;

        var steps = new List<Step>(Math.Min(searchLimit, 64)) { new(primary, -1, -1), new(secondary, -1, -1) };
        var seen = new HashSet<ulong> { primary, secondary }; // a bucket twice on one chain would move a slot twice
        for (int head = 0; head < steps.Count && steps.Count < searchLimit; head++)
        {
            ulong bucket = steps[head].Bucket;
            for (int i = 0; i < Bucket.SlotCount; i++)
            {
                Slot victim = region.ReadSlot(bucket, i);
                ulong other = KeyHash.AlternateBucket(bucket, victim.Fingerprint, mask);
                int free = EmptySlot(region, other);
                if (free >= 0)
                {
                    moves = Execute(region, steps, head, i, other, free, slot);
                    return true;
                }
                if (seen.Add(other)) steps.Add(new Step(other, head, i));
            }
        }
        return false;
    }

    static int Execute(Region region, List<Step> steps, int node, int slotIndex, ulong target, int targetSlot, Slot inserted)
    {
        int moves = 0;
        // Walk back from the empty slot: move each victim forward, then reuse its old place.
        while (true)
        {
            ulong bucket = steps[node].Bucket;
            region.PublishSlot(target, targetSlot, region.ReadSlot(bucket, slotIndex));
            moves++;
            if (steps[node].Parent < 0) break;
            (target, targetSlot) = (bucket, slotIndex);
            slotIndex = steps[node].SlotInParent;
            node = steps[node].Parent;
        }
        region.PublishSlot(steps[node].Bucket, slotIndex, inserted);
        return moves;
    }

    static bool TryPlace(Region region, ulong bucket, Slot slot)
    {
        int free = EmptySlot(region, bucket);
        if (free < 0) return false;
        region.PublishSlot(bucket, free, slot);
        return true;
    }

    static int EmptySlot(Region region, ulong bucket)
    {
        for (int i = 0; i < Bucket.SlotCount; i++)
            if (region.ReadSlot(bucket, i).IsEmpty) return i;
        return -1;
    }
}
