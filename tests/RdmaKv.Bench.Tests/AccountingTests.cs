using RdmaKv.Bench.Results;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench.Tests;

public class AccountingTests
{
    [Fact]
    public void PercentilesOfAKnownLatencySetAreTheOrderStatistics()
    {
        var recorder = new OperationRecorder();
        // 1 .. 1000 microseconds, in a shuffled order.
        var values = Enumerable.Range(1, 1000).OrderBy(i => (i * 7919) % 1000).ToList();
        foreach (int us in values) recorder.Success(Operation.Read, us * 1000L, retries: 0);
        var result = PhaseResult.From("run", 2.0, [recorder], retriesReported: true);
        var l = Assert.Single(result.ByOperation).Latency;
        // Three significant digits: each figure within 0.1% of the exact order statistic.
        Assert.Equal(500, l.P50Us, 500 * 0.001);
        Assert.Equal(950, l.P95Us, 950 * 0.001);
        Assert.Equal(990, l.P99Us, 990 * 0.001);
        Assert.Equal(999, l.P999Us, 999 * 0.001);
        Assert.Equal(1000, l.MaxUs);
        Assert.Equal(500.5, l.MeanUs, 500.5 * 0.001);
        Assert.Equal(500, result.Total.Throughput);
    }

    [Fact]
    public void SubMicrosecondLatenciesKeepTheirResolution()
    {
        var recorder = new OperationRecorder();
        for (int i = 0; i < 99; i++) recorder.Success(Operation.Read, 250, 0);
        recorder.Success(Operation.Read, 1_234_567, 0);
        var l = PhaseResult.From("run", 1, [recorder], true).Total.Latency;
        Assert.Equal(0.25, l.P50Us);
        Assert.Equal(0.25, l.P99Us);
        Assert.Equal(1234.567, l.MaxUs);
    }

    [Fact]
    public void CountsOfSeveralThreadsAddUp()
    {
        var a = new OperationRecorder();
        var b = new OperationRecorder();
        for (int i = 0; i < 300; i++) a.Success(Operation.Read, 1000, retries: 1);
        for (int i = 0; i < 200; i++) b.Success(Operation.Read, 2000, retries: 0);
        for (int i = 0; i < 100; i++) b.Success(Operation.Update, 5000, retries: 0);
        for (int i = 0; i < 7; i++) a.Failure(Operation.Update, "boom", retries: 2);
        for (int i = 0; i < 10; i++) b.Failure(Operation.Update, $"distinct {i}", retries: 0);

        var result = PhaseResult.From("run", 10, [a, b], retriesReported: true);
        var read = result.ByOperation.Single(r => r.Operation == "READ");
        var update = result.ByOperation.Single(r => r.Operation == "UPDATE");
        Assert.Equal((500L, 500L, 0L, 300L), (read.Operations, read.Succeeded, read.Errors, read.Retries!.Value));
        Assert.Equal((117L, 100L, 17L, 14L), (update.Operations, update.Succeeded, update.Errors, update.Retries!.Value));
        Assert.Equal(617, result.Total.Operations);
        Assert.Equal(600, result.Total.Succeeded);
        Assert.Equal(17, result.Total.Errors);
        Assert.Equal(50, read.Throughput);
        Assert.Equal(60, result.Total.Throughput);
        Assert.Equal(7, update.ErrorMessages["boom"]);
        Assert.Equal(OperationRecorder.ErrorSamples, update.ErrorMessages.Count);
        Assert.Equal(5, result.Total.Latency.MaxUs);
    }

    [Fact]
    public void RetriesAreNullWhenTheClientReportsNone()
    {
        var r = new OperationRecorder();
        r.Success(Operation.Read, 10, 0);
        Assert.Null(PhaseResult.From("run", 1, [r], retriesReported: false).Total.Retries);
    }
}
