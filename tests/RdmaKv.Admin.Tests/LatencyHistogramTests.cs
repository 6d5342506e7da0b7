namespace RdmaKv.Admin.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void BoundsRiseInOneTwoFiveStepsFromHalfAMicrosecondToTenSeconds()
    {
        var bounds = LatencyHistogram.UpperBoundsNanos;
        Assert.Equal(500, bounds[0]);
        Assert.Equal(10_000_000_000, bounds[^1]);
        for (int i = 1; i < bounds.Length; i++) Assert.True(bounds[i] > bounds[i - 1]);
        Assert.Equal(0, LatencyHistogram.BucketOf(500));
        Assert.Equal(1, LatencyHistogram.BucketOf(501));
        Assert.Equal(bounds.Length, LatencyHistogram.BucketOf(long.MaxValue));
    }

    [Fact]
    public void PercentilesFallInTheRightBuckets()
    {
        var h = new LatencyHistogram();
        for (int i = 0; i < 990; i++) h.Record(1_500);      // bucket (1 us, 2 us]
        for (int i = 0; i < 10; i++) h.Record(300_000);     // bucket (200 us, 500 us]
        var s = h.Snapshot();
        Assert.Equal(1000, s.Count);
        Assert.InRange(s.Percentile(0.5)!.Value, 1_000, 2_000);
        Assert.InRange(s.Percentile(0.99)!.Value, 1_000, 2_000);
        Assert.InRange(s.Percentile(0.999)!.Value, 200_000, 500_000);
        Assert.Equal(990L * 1_500 + 10L * 300_000, s.SumsNanos.Sum());
        Assert.Null(LatencySnapshot.Empty.Percentile(0.5));
    }

    [Fact]
    public void AnIntervalIsTheDifferenceOfTwoSnapshots()
    {
        var h = new LatencyHistogram();
        h.Record(700);
        var first = h.Snapshot();
        h.Record(7_000_000);
        h.Record(7_000_000);
        var interval = h.Snapshot().Minus(first);
        Assert.Equal(2, interval.Count);
        Assert.InRange(interval.Percentile(0.5)!.Value, 5_000_000, 10_000_000);
    }

    [Fact]
    public async Task ConcurrentRecordsAreAllCounted()
    {
        var h = new LatencyHistogram();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 50_000; i++) h.Record(100 * (i % 1000));
        })));
        var s = h.Snapshot();
        Assert.Equal(200_000, s.Count);
        Assert.Equal(4L * 50 * Enumerable.Range(0, 1000).Sum(i => 100L * i), s.SumsNanos.Sum());
    }
}
