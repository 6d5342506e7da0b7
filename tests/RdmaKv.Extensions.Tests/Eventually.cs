using System.Diagnostics;

namespace RdmaKv.Extensions.Tests;

/// <summary>Polls for an event with a bound: expiries are waited for, never slept through.</summary>
static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every few milliseconds until it holds; fails after <paramref name="within"/> (10 s by default) saying what did not happen.</summary>
    public static TimeSpan Until(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > limit) Assert.Fail($"{what} did not happen within {limit.TotalSeconds} s");
            Thread.Sleep(10);
        }
        return watch.Elapsed;
    }
}

/// <summary>A clock the test moves by hand; it starts at the real time, so entries it dates live in the store too.</summary>
sealed class ManualClock : TimeProvider
{
    DateTimeOffset _now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
