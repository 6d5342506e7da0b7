using Microsoft.Extensions.Caching.Distributed;

namespace RdmaKv.Extensions;

/// <summary>
/// An entry's expiration in Unix milliseconds (0 = none), as <see cref="CacheEntryHeader"/> holds
/// it: when it expires for good, its sliding window, and when the store drops it unless a read
/// refreshes it first.
/// </summary>
readonly record struct EntryTimes(long AbsoluteMs, long SlidingMs, long StoreExpiryMs)
{
    /// <summary>The latest instant a <see cref="DateTimeOffset"/> holds, in Unix milliseconds: expiries saturate there.</summary>
    static readonly long s_maxMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>
    /// The times of an entry written at <paramref name="now"/> with <paramref name="options"/>. A
    /// relative expiration wins over an absolute one when both are given (as the Redis cache does);
    /// an absolute expiration that is not in the future is an error.
    /// </summary>
    public static EntryTimes For(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        long nowMs = now.ToUnixTimeMilliseconds();
        long absolute = 0;
        if (options.AbsoluteExpirationRelativeToNow is { } relative) absolute = Add(nowMs, Milliseconds(relative));
        else if (options.AbsoluteExpiration is { } at)
        {
            if (at <= now) throw new ArgumentOutOfRangeException(nameof(options), at, $"The absolute expiration {at:O} is not in the future (now is {now:O}).");
            absolute = Math.Max(at.ToUnixTimeMilliseconds(), nowMs + 1);
        }
        long sliding = options.SlidingExpiration is { } window ? Milliseconds(window) : 0;
        return new(absolute, sliding, StoreExpiry(absolute, sliding, nowMs));
    }

    /// <summary>True while the entry is neither past its absolute expiry nor past its store expiry at <paramref name="nowMs"/>.</summary>
    public bool LiveAt(long nowMs) => (AbsoluteMs == 0 || nowMs < AbsoluteMs) && (StoreExpiryMs == 0 || nowMs < StoreExpiryMs);

    /// <summary>
    /// The store expiry a read at <paramref name="nowMs"/> moves a sliding entry to, or 0 when the
    /// entry has no sliding window or its store expiry is already within the slack of where the read
    /// would move it (a twentieth of the window, at most a second): reads that follow each other
    /// closely write once, and an entry read within its window lives at least that window less the
    /// slack after the read.
    /// </summary>
    public long RefreshedStoreExpiry(long nowMs)
    {
        if (SlidingMs == 0) return 0;
        long next = StoreExpiry(AbsoluteMs, SlidingMs, nowMs);
        long slack = Math.Min(SlidingMs / 20, 1000);
        return next - StoreExpiryMs > slack ? next : 0;
    }

    static long StoreExpiry(long absoluteMs, long slidingMs, long nowMs) =>
        slidingMs == 0 ? absoluteMs
        : absoluteMs == 0 ? Add(nowMs, slidingMs)
        : Math.Min(absoluteMs, Add(nowMs, slidingMs));

    /// <summary>Whole milliseconds, rounded up so that no window shrinks, at least 1.</summary>
    static long Milliseconds(TimeSpan span) => Math.Max(1, (span.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);

    static long Add(long ms, long more) => more >= s_maxMs - ms ? s_maxMs : ms + more;
}
