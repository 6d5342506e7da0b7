using RdmaKv.Bench.Results;

namespace RdmaKv.Bench.Tests;

/// <summary>The side-by-side table: each peer's row carries RdmaKv's ratios, for each of RdmaKv's transports.</summary>
public sealed class CompareReportTests
{
    static BenchReport Report(string store, string label, string transport, string workload, double throughput, double p50, double p99)
    {
        var settings = new ReportSettings(workload, "", 1, 0, 0, 0, "zipfian", 1000, 1000, 10, 100, 1000, 1, 10, 1, "both", "user");
        var latency = new LatencySummary(p50, p50, p99, p99, p99, p99);
        var total = new OperationResult("ALL", 1000, 1000, 0, 0, throughput, latency, new Dictionary<string, long>());
        var run = new PhaseResult("run", 10, true, false, [total with { Operation = "READ" }], total);
        var machine = new MachineInfo("host", 2, "cpu", 1L << 30, "linux", ".NET", "0.50 0.40 0.30", "0.60 0.40 0.30");
        return new BenchReport(BenchReport.ToolName, BenchReport.CurrentFormat, DateTime.UtcNow, settings,
            new TargetInfo("x", store, label, transport, null), machine, null, run);
    }

    static string[] Row(string table, string workload, string label) =>
        table.Split('\n').Single(l => l.StartsWith($"| {workload} | 1 | {label} |", StringComparison.Ordinal))
            .Split('|').Select(c => c.Trim()).ToArray();

    [Fact]
    public void PeersGetTheRatiosOfBothRdmaKvTransports()
    {
        var reports = new[]
        {
            Report("Redis", "Redis", "RESP", "C", 10_000, 50, 200),
            Report("RdmaKv", "RdmaKv-UCX", "UCX", "C", 25_000, 20, 100),
            Report("RdmaKv", "RdmaKv", "shared memory", "C", 1_000_000, 0.5, 2),
            Report("Garnet", "Garnet", "RESP", "C", 5_000, 150, 400),
        };
        string table = CompareReport.Render(reports);

        Assert.Contains("RdmaKv-UCX ops/s ÷ this | this p50 ÷ RdmaKv-UCX p50", table, StringComparison.Ordinal);
        // Columns: "", workload, threads, store, transport, ops/s, p50, p99, errors, ratio, p99 ratio, UCX ratio, p50 ratio.
        string[] redis = Row(table, "C", "Redis");
        Assert.Equal(["100.0x", "100.0x", "2.5x", "2.5x"], redis[9..13]);
        string[] garnet = Row(table, "C", "Garnet");
        Assert.Equal(["200.0x", "200.0x", "5.0x", "7.5x"], garnet[9..13]);
        Assert.All(Row(table, "C", "RdmaKv")[9..13], c => Assert.Equal("", c));
        var lines = table.Split('\n').Where(l => l.StartsWith("| C |", StringComparison.Ordinal)).ToList();
        Assert.Equal(["RdmaKv", "RdmaKv-UCX", "Garnet", "Redis"], lines.Select(l => l.Split('|')[3].Trim()));
    }

    [Fact]
    public void WithoutASecondTransportTheTableHasNoExtraColumns()
    {
        string table = CompareReport.Render([Report("Redis", "Redis", "RESP", "A", 10_000, 50, 200), Report("RdmaKv", "RdmaKv", "shm", "A", 300_000, 2, 10)]);
        Assert.DoesNotContain("p50 ÷", table, StringComparison.Ordinal);
        Assert.Equal(["30.0x", "20.0x", ""], Row(table, "A", "Redis")[9..12]);
    }

    [Fact]
    public void ThePeakLineSetsOneThreadOfWorkloadCAgainstTheBestPeak()
    {
        var dir = Directory.CreateTempSubdirectory("rdmakv-compare-test-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a.json"), Report("RdmaKv", "RdmaKv", "shm", "C", 1_200_000, 0.6, 1).ToJson());
            File.WriteAllText(Path.Combine(dir.FullName, "b.json"), Report("Redis", "Redis", "RESP", "C", 8_000, 100, 250).ToJson());
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.Equal(0, CompareReport.Run(dir, ["Redis=300000", "Garnet=400000"], output, error));
            Assert.Contains("1,200,000 ops/s, 3.00x the best pipelined peak (Garnet, 400,000 GET/s)", output.ToString(), StringComparison.Ordinal);
            Assert.Equal(2, CompareReport.Run(dir, ["Redis:300000"], output, error));
            Assert.Contains("is not NAME=OPS", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
