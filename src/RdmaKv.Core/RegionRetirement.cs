namespace RdmaKv.Core;

/// <summary>
/// Makes a region unreadable for one-sided readers: state retired, every bucket version left odd,
/// every live extent superseded. A reader on a cached location then rejects the extent, a reader
/// of the buckets never sees them settle, and both look at the state and refresh their view.
/// </summary>
/// <remarks>
/// Written against raw memory so that a node starting under a crashed node's name can retire the
/// files that node left (clients may still map them) before it accepts a write. Nothing in the
/// region is trusted: entries whose extent lies outside the extent area are skipped, so a damaged
/// index cannot make this write outside the region.
/// </remarks>
public static unsafe class RegionRetirement
{
    /// <summary>Retires the region at <paramref name="start"/> of <paramref name="length"/> bytes; false when its header is not a region's.</summary>
    public static bool Retire(byte* start, long length)
    {
        if (length < RegionHeader.Size) return false;
        if (!RegionHeader.TryRead(new ReadOnlySpan<byte>(start, RegionHeader.Size), out var header) || header.RegionSize > length)
        {
            // Still tell readers that mapped it while it was whole.
            Volatile.Write(ref *(ulong*)(start + RegionHeader.StateOffset), (ulong)RegionState.Retired);
            return false;
        }
        Retire(start, header);
        return true;
    }

    /// <summary>Retires a region whose header the caller has checked (the writer's own regions).</summary>
    public static void Retire(byte* start, in RegionHeader header)
    {
        Volatile.Write(ref *(ulong*)(start + RegionHeader.StateOffset), (ulong)RegionState.Retired);
        for (long b = 0; b < header.BucketCount; b++)
        {
            ulong* bucket = (ulong*)(start + RegionHeader.IndexOffset + b * Bucket.Size);
            ulong version = Volatile.Read(ref bucket[0]);
            if ((version & 1) == 0) Volatile.Write(ref bucket[0], version + 1);
            for (int i = 0; i < Bucket.EntryCount; i++)
            {
                var entry = new IndexEntry(Volatile.Read(ref bucket[i + 1]));
                if (entry.IsResident) Supersede(start, header, entry.ExtentOffset);
            }
        }
    }

    /// <summary>Sets an extent's superseded bit, if the offset lies within the extent area; false when it does not.</summary>
    public static bool Supersede(byte* start, in RegionHeader header, long offset)
    {
        if (offset < header.ExtentOffset || offset > header.RegionSize - ExtentHeader.Size || offset % ExtentUnits.Size != 0) return false;
        ulong* state = (ulong*)(start + offset);
        Interlocked.Or(ref *state, ExtentHeader.SupersededFlag);
        return true;
    }
}
