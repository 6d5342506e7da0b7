using RdmaKv.Bench.Results;

namespace RdmaKv.Bench.Tests;

public class RunnerTests
{
    static (PhaseResult Load, PhaseResult Run) Run(MemoryStore store, BenchSettings settings)
    {
        settings.Validate();
        var runner = new BenchRunner(settings, store, QuietProgress.Instance);
        return (runner.Load(CancellationToken.None), runner.Run(CancellationToken.None));
    }

    [Fact]
    public void EveryOperationIsCountedOnceAndFailuresAsTheStoreSawThem()
    {
        using var store = new MemoryStore(failEvery: 13);
        var settings = new BenchSettings { Workload = "A", Records = 2000, Operations = 20_000, Threads = 3, FieldCount = 4, FieldLength = 16 };
        settings.Validate();
        var runner = new BenchRunner(settings, store, QuietProgress.Instance);
        var load = runner.Load(CancellationToken.None);
        Assert.Equal(2000, load.Total.Operations);
        Assert.Equal(2000, load.Total.Succeeded + load.Total.Errors);
        Assert.Equal(store.Records.Count, load.Total.Succeeded);

        var run = runner.Run(CancellationToken.None);
        Assert.Equal(20_000, run.Total.Operations);
        Assert.Equal(run.Total.Operations, run.ByOperation.Sum(r => r.Operations));
        Assert.Equal(run.Total.Errors, run.ByOperation.Sum(r => r.Errors));
        // Updates write only, so their errors are the store's injected failures, as are the load's.
        var read = run.ByOperation.Single(r => r.Operation == "READ");
        var update = run.ByOperation.Single(r => r.Operation == "UPDATE");
        Assert.Equal(store.FailedWrites, load.Total.Errors + update.Errors);
        Assert.True(load.Total.Errors > 0 && update.Errors > 0, "the store failed some writes");
        // A read of a record whose insert failed is a "not found" error; every read reached the store.
        Assert.Equal(store.Reads, read.Operations);
        Assert.True(read.Errors > 0);
        Assert.Equal(["not found"], read.ErrorMessages.Keys);
        Assert.All(run.ByOperation, r => Assert.Equal(r.Operations, r.Succeeded + r.Errors));
        Assert.False(run.StoppedByDuration);
    }

    [Fact]
    public void ReadModifyWriteReadsAndWritesTheSameRecord()
    {
        using var store = new MemoryStore();
        var settings = new BenchSettings { Workload = "F", Records = 100, Operations = 5000, FieldCount = 2, FieldLength = 8 };
        var (_, run) = Run(store, settings);
        var rmw = run.ByOperation.Single(r => r.Operation == "READ-MODIFY-WRITE");
        Assert.InRange(rmw.Operations, 2200, 2800);
        Assert.Equal(0, run.Total.Errors);
        var log = store.Log.Skip(100).ToList();
        int writes = 0;
        for (int i = 0; i < log.Count; i++)
        {
            if (log[i][0] != 'W') continue;
            writes++;
            Assert.Equal("R" + log[i][1..], log[i - 1]);
        }
        Assert.Equal(rmw.Operations, writes);
    }

    [Fact]
    public void WorkloadDInsertsNewRecordsAfterTheLoadedOnes()
    {
        using var store = new MemoryStore();
        var settings = new BenchSettings { Workload = "D", Records = 500, Operations = 10_000, FieldCount = 2, FieldLength = 8 };
        var (_, run) = Run(store, settings);
        long inserts = run.ByOperation.Single(r => r.Operation == "INSERT").Operations;
        Assert.Equal(500 + inserts, store.Records.Count);
        Assert.Equal(0, run.Total.Errors);
    }

    [Fact]
    public void TheSameSeedIssuesTheSameOperationsAndAnotherSeedDoesNot()
    {
        string[] Trace(ulong seed)
        {
            using var store = new MemoryStore();
            Run(store, new BenchSettings { Workload = "A", Records = 1000, Operations = 2000, FieldCount = 2, FieldLength = 8, Seed = seed });
            return [.. store.Log];
        }
        Assert.Equal(Trace(11), Trace(11));
        Assert.NotEqual(Trace(11), Trace(12));
    }

    [Fact]
    public void TheRunStopsAtItsDuration()
    {
        using var store = new MemoryStore();
        var settings = new BenchSettings { Workload = "C", Records = 100, Operations = long.MaxValue / 2, DurationSeconds = 0.3, Threads = 2, FieldCount = 1, FieldLength = 8 };
        var (_, run) = Run(store, settings);
        Assert.True(run.StoppedByDuration);
        Assert.InRange(run.ElapsedSeconds, 0.3, 30);
        Assert.True(run.Total.Operations > 0);
    }

    [Fact]
    public void BadOptionsAreRefusedWithTheOptionNamed()
    {
        Assert.Contains("--records", Assert.Throws<ArgumentException>(() => new BenchSettings { Records = 1 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("--threads", Assert.Throws<ArgumentException>(() => new BenchSettings { Threads = 0 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("--distribution", Assert.Throws<ArgumentException>(() => new BenchSettings { Distribution = "hotspot" }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("--field-count", Assert.Throws<ArgumentException>(() => new BenchSettings { FieldCount = 2048, FieldLength = 1024 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("--phase run", Assert.Throws<ArgumentException>(() => new BenchSettings { Phase = BenchPhase.Run }.Validate()).Message, StringComparison.Ordinal);
    }
}
