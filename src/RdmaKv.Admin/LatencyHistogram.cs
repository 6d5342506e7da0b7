using System.Diagnostics;

namespace RdmaKv.Admin;

/// <summary>
/// Request latencies in fixed buckets (1-2-5 steps from 0.5 us to 10 s, then overflow), recorded
/// with two interlocked adds from any thread. Each bucket keeps its count and the sum of its
/// latencies, so an interval's mean per bucket is exact: the metrics exporter replays intervals
/// into Prometheus histograms with exact sums, and the dashboard takes percentiles of intervals.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Upper bounds (inclusive) in nanoseconds; one more bucket holds everything above the last.</summary>
    public static readonly long[] UpperBoundsNanos = BuildBounds();

    readonly long[] _counts = new long[UpperBoundsNanos.Length + 1];
    readonly long[] _sums = new long[UpperBoundsNanos.Length + 1];

    static long[] BuildBounds()
    {
        var bounds = new List<long>();
        for (long decade = 100; decade <= 1_000_000_000; decade *= 10)
        {
            foreach (long step in (ReadOnlySpan<long>)[1, 2, 5])
            {
                long bound = decade * step;
                if (bound >= 500 && bound <= 10_000_000_000) bounds.Add(bound);
            }
        }
        bounds.Add(10_000_000_000);
        return [.. bounds];
    }

    public static int BucketOf(long nanos)
    {
        var bounds = UpperBoundsNanos;
        int i = 0;
        while (i < bounds.Length && nanos > bounds[i]) i++;
        return i;
    }

    public void Record(long nanos)
    {
        if (nanos < 0) nanos = 0;
        int bucket = BucketOf(nanos);
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Add(ref _sums[bucket], nanos);
    }

    /// <summary>Records the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void RecordSince(long startTimestamp) =>
        Record((long)((Stopwatch.GetTimestamp() - startTimestamp) * (1e9 / Stopwatch.Frequency)));

    public LatencySnapshot Snapshot()
    {
        var counts = new long[_counts.Length];
        var sums = new long[_sums.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            // A sum read just before its count's increment lands is at most one latency ahead of it.
            counts[i] = Volatile.Read(ref _counts[i]);
            sums[i] = Volatile.Read(ref _sums[i]);
        }
        return new LatencySnapshot(counts, sums);
    }
}

/// <summary>Bucket counts and latency sums (ns) at one moment, or over an interval after <see cref="Minus"/>.</summary>
public sealed record LatencySnapshot(long[] Counts, long[] SumsNanos)
{
    public static readonly LatencySnapshot Empty = new(new long[LatencyHistogram.UpperBoundsNanos.Length + 1], new long[LatencyHistogram.UpperBoundsNanos.Length + 1]);

    public long Count => Counts.Sum();

    public LatencySnapshot Minus(LatencySnapshot earlier)
    {
        var counts = new long[Counts.Length];
        var sums = new long[SumsNanos.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = Math.Max(0, Counts[i] - earlier.Counts[i]);
            sums[i] = Math.Max(0, SumsNanos[i] - earlier.SumsNanos[i]);
        }
        return new LatencySnapshot(counts, sums);
    }

    /// <summary>
    /// The latency (ns) below which <paramref name="quantile"/> of the recorded ones fall,
    /// interpolated linearly inside its bucket; null when nothing was recorded.
    /// </summary>
    public double? Percentile(double quantile)
    {
        long total = Count;
        if (total == 0) return null;
        var bounds = LatencyHistogram.UpperBoundsNanos;
        double rank = quantile * total;
        long seen = 0;
        for (int i = 0; i < Counts.Length; i++)
        {
            if (Counts[i] == 0) continue;
            if (seen + Counts[i] >= rank)
            {
                double low = i == 0 ? 0 : bounds[i - 1];
                // The overflow bucket has no upper bound: its mean is the best estimate there.
                double high = i < bounds.Length ? bounds[i] : (double)SumsNanos[i] / Counts[i];
                double within = (rank - seen) / Counts[i];
                return low + (Math.Max(high, low) - low) * Math.Clamp(within, 0, 1);
            }
            seen += Counts[i];
        }
        return bounds[^1];
    }
}
