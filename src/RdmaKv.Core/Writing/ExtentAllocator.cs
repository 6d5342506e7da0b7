using System.Diagnostics;

namespace RdmaKv.Core;

/// <summary>
/// Hands out extents from a region's extent area in size classes of 64-byte units (exact up to
/// 16 units, then eight classes per power of two, so at most 1/8 of an extent is padding).
/// A released extent waits in quarantine for <see cref="Grace"/> before it is reused, so a reader
/// that fetched its entry just before the release finds it intact or superseded, not rewritten.
/// Not thread-safe: the partition's writer owns it.
/// </summary>
public sealed class ExtentAllocator
{
    const int ClassCount = 8 + 8 * 12; // up to 2^15 units (2 MiB), above Limits.MaxExtentLength
    readonly Stack<long>[] _free = new Stack<long>[ClassCount];
    readonly Queue<(long Offset, int Class, long Due)> _quarantine = new();
    readonly long _start;
    readonly long _end;
    long _bump;

    public ExtentAllocator(long start, long end, TimeSpan grace)
    {
        Debug.Assert(start % ExtentUnits.Size == 0 && end % ExtentUnits.Size == 0 && start <= end, "the extent area is unit-aligned");
        _start = start;
        _end = end;
        _bump = start;
        Grace = grace;
        for (int i = 0; i < ClassCount; i++) _free[i] = new Stack<long>();
    }

    public TimeSpan Grace { get; }

    /// <summary>Bytes handed out and not yet released, counted by size class.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Bytes the live extents asked for; the difference to <see cref="AllocatedBytes"/> is padding.</summary>
    public long RequestedBytes { get; private set; }

    public long FreeListBytes { get; private set; }
    public long QuarantinedBytes { get; private set; }
    public long UntouchedBytes => _end - _bump;
    public long Capacity => _end - _start;

    public static int ClassOf(int length)
    {
        int units = ExtentUnits.CountUp(length);
        if (units <= 8) return Math.Max(units, 1) - 1;
        int p = 31 - int.LeadingZeroCount(units - 1); // 2^p < units <= 2^(p+1), p >= 3
        int step = 1 << (p - 3);                      // padding < step <= units / 8
        int multiple = (units + step - 1) / step;     // 9..16
        return 8 + (p - 3) * 8 + (multiple - 9);
    }

    public static int ClassLength(int classIndex)
    {
        if (classIndex < 8) return ExtentUnits.Bytes(classIndex + 1);
        int p = 3 + (classIndex - 8) / 8;
        int multiple = 9 + (classIndex - 8) % 8;
        return ExtentUnits.Bytes(multiple << (p - 3));
    }

    /// <summary>Allocates room for an extent of <paramref name="length"/> bytes; false when the area is full.</summary>
    public bool TryAllocate(int length, out long offset)
    {
        Reclaim(Stopwatch.GetTimestamp());
        int c = ClassOf(length);
        int classLength = ClassLength(c);
        if (_free[c].TryPop(out offset))
        {
            FreeListBytes -= classLength;
        }
        else if (_end - _bump >= classLength)
        {
            offset = _bump;
            _bump += classLength;
        }
        else
        {
            offset = 0;
            return false;
        }
        AllocatedBytes += classLength;
        RequestedBytes += length;
        return true;
    }

    /// <summary>True when <see cref="TryAllocate"/> would succeed for <paramref name="length"/> bytes now.</summary>
    public bool CanAllocate(int length)
    {
        Reclaim(Stopwatch.GetTimestamp());
        int c = ClassOf(length);
        return _free[c].Count > 0 || _end - _bump >= ClassLength(c);
    }

    /// <summary>Returns an extent; it is reused only after the grace period.</summary>
    public void Release(long offset, int length)
    {
        Debug.Assert(offset >= _start && offset < _end, "released extent lies outside the area");
        int c = ClassOf(length);
        int classLength = ClassLength(c);
        AllocatedBytes -= classLength;
        RequestedBytes -= length;
        QuarantinedBytes += classLength;
        long now = Stopwatch.GetTimestamp();
        double grace = Grace.TotalSeconds * Stopwatch.Frequency;
        // Saturate: a grace beyond the clock's range (TimeSpan.MaxValue) means never, not a due time wrapped into the past.
        _quarantine.Enqueue((offset, c, grace >= long.MaxValue - now ? long.MaxValue : now + (long)grace));
    }

    /// <summary>Moves extents whose grace has passed from quarantine to their free lists.</summary>
    public void Reclaim(long now)
    {
        while (_quarantine.TryPeek(out var q) && q.Due <= now)
        {
            _quarantine.Dequeue();
            int classLength = ClassLength(q.Class);
            QuarantinedBytes -= classLength;
            FreeListBytes += classLength;
            _free[q.Class].Push(q.Offset);
        }
    }

    public ExtentAreaStats Stats => new(Capacity, AllocatedBytes, RequestedBytes, FreeListBytes, QuarantinedBytes, UntouchedBytes);
}

/// <summary>
/// How an extent area is used. Fragmentation is the share of the touched area that holds no
/// live data: padding inside allocations, free-list and quarantined extents.
/// </summary>
public readonly record struct ExtentAreaStats(
    long Capacity, long AllocatedBytes, long RequestedBytes, long FreeListBytes, long QuarantinedBytes, long UntouchedBytes)
{
    public double Fragmentation
    {
        get
        {
            long touched = Capacity - UntouchedBytes;
            return touched == 0 ? 0 : 1.0 - (double)RequestedBytes / touched;
        }
    }
}
