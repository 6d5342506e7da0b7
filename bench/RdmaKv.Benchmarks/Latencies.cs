using System.Diagnostics;

namespace RdmaKv.Benchmarks;

/// <summary>Timed single operations: each one's latency in microseconds, sorted, after a warm-up.</summary>
static class Latencies
{
    public static double[] Time(int count, Action<int> op)
    {
        for (int i = 0; i < Math.Min(count, 2000); i++) op(i); // warm up
        var us = new double[count];
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            op(i);
            us[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        Array.Sort(us);
        return us;
    }

    public static double Median(double[] sorted) => sorted[sorted.Length / 2];

    public static double P99(double[] sorted) => sorted[(int)(sorted.Length * 0.99)];
}
