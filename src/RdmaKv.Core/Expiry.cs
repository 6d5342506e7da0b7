namespace RdmaKv.Core;

/// <summary>
/// Expiry times: milliseconds since the Unix epoch, UTC, 0 for "never". Every reader compares an
/// entry's expiry with its own clock (a one-sided reader asks nobody), so clocks are assumed to
/// agree within a small skew (NTP keeps them within milliseconds): an entry may read as present up
/// to that skew after its expiry on a reader whose clock lags, or absent that much early on one
/// whose clock leads. A key never reads as present again once a reader has seen it expire, as long
/// as that reader's clock does not go back.
/// </summary>
public static class Expiry
{
    /// <summary>No expiry.</summary>
    public const long Never = 0;

    /// <summary>This machine's clock, in the unit of an expiry.</summary>
    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The expiry for <paramref name="at"/>; <see cref="ArgumentOutOfRangeException"/> before 1970 (0 would mean never).</summary>
    public static long From(DateTimeOffset at)
    {
        long ms = at.ToUnixTimeMilliseconds();
        ArgumentOutOfRangeException.ThrowIfLessThan(ms, 1, nameof(at));
        return ms;
    }

    /// <summary>True when an entry with expiry <paramref name="expiresAt"/> has expired at <paramref name="now"/>.</summary>
    public static bool HasPassed(long expiresAt, long now) => expiresAt != Never && expiresAt <= now;

    /// <summary>True when an entry with expiry <paramref name="expiresAt"/> has expired by this machine's clock, which is read only when there is an expiry.</summary>
    public static bool HasPassed(long expiresAt) => expiresAt != Never && expiresAt <= Now();
}
