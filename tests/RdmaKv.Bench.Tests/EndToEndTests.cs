using System.Text.Json;
using RdmaKv.Tests;

namespace RdmaKv.Bench.Tests;

/// <summary>Short bounded runs of the whole benchmark against real nodes: in process, in another process, and through <c>rdmakv bench</c>.</summary>
public sealed class EndToEndTests : IDisposable
{
    /// <summary>A benchmark child loads and runs workloads: more than the usual patience.</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    readonly string _directory = Directory.CreateTempSubdirectory("rdmakv-bench-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    static BenchSettings Small(string workload, string target, string json) => new()
    {
        Workload = workload,
        Target = target,
        Records = 2000,
        Operations = 10_000,
        Threads = 2,
        DurationSeconds = 60,
        JsonPath = json,
    };

    /// <summary>Checks the JSON a run wrote: settings, machine and every figure present, every operation counted and none failed.</summary>
    static JsonElement CheckReport(string path, string workload, long records, long operations, params string[] expectedOperations)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement.Clone();
        Assert.Equal("rdmakv-bench", root.GetProperty("tool").GetString());
        var settings = root.GetProperty("settings");
        Assert.Equal(workload, settings.GetProperty("workload").GetString());
        Assert.Equal(records, settings.GetProperty("records").GetInt64());
        Assert.Equal(operations, settings.GetProperty("operations").GetInt64());
        foreach (string name in new[] { "distribution", "fieldCount", "fieldLength", "threads", "durationSeconds", "seed", "readProportion" })
            Assert.True(settings.TryGetProperty(name, out _), $"settings.{name} is missing");
        var machine = root.GetProperty("machine");
        Assert.True(machine.GetProperty("cores").GetInt32() > 0);
        Assert.True(machine.GetProperty("memoryBytes").GetInt64() > 0);
        Assert.False(string.IsNullOrEmpty(machine.GetProperty("os").GetString()));
        Assert.False(string.IsNullOrEmpty(machine.GetProperty("loadAverageAtEnd").GetString()));
        Assert.Equal("RdmaKv", root.GetProperty("target").GetProperty("store").GetString());
        Assert.Contains("shared memory", root.GetProperty("target").GetProperty("transport").GetString(), StringComparison.Ordinal);

        var load = root.GetProperty("load").GetProperty("total");
        Assert.Equal(records, load.GetProperty("operations").GetInt64());
        var run = root.GetProperty("run");
        var total = run.GetProperty("total");
        Assert.Equal(operations, total.GetProperty("operations").GetInt64());
        Assert.Equal(0, total.GetProperty("errors").GetInt64());
        Assert.Equal(0, load.GetProperty("errors").GetInt64());
        Assert.True(total.GetProperty("throughput").GetDouble() > 0);
        var byOperation = run.GetProperty("byOperation").EnumerateArray().ToList();
        Assert.Equal(expectedOperations, byOperation.Select(o => o.GetProperty("operation").GetString()));
        Assert.Equal(operations, byOperation.Sum(o => o.GetProperty("operations").GetInt64()));
        foreach (var o in byOperation)
        {
            Assert.Equal(o.GetProperty("operations").GetInt64(), o.GetProperty("succeeded").GetInt64());
            Assert.True(o.GetProperty("retries").GetInt64() >= 0);
            var l = o.GetProperty("latency");
            double[] figures = [.. new[] { "p50Us", "p95Us", "p99Us", "p999Us", "maxUs" }.Select(n => l.GetProperty(n).GetDouble())];
            Assert.True(figures[0] > 0, "p50 is positive");
            Assert.Equal(figures.Order(), figures); // p50 <= p95 <= p99 <= p99.9 <= max
        }
        return root;
    }

    [Fact]
    public void AnEmbeddedRunWritesACompleteReportAndStopsItsNode()
    {
        string json = Path.Combine(_directory, "embedded.json");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Benchmark.Run(Small("A", "embedded", json), QuietProgress.Instance, stdout, stderr, CancellationToken.None);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var root = CheckReport(json, "A", 2000, 10_000, "READ", "UPDATE");
        Assert.Contains("| run | READ |", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("| run | UPDATE |", stdout.ToString(), StringComparison.Ordinal);

        string info = root.GetProperty("target").GetProperty("serverInfo").GetString()!;
        string name = info.Split('\'')[1];
        Assert.False(Directory.Exists($"/dev/shm/rdmakv-{name}"), "the embedded node's shared memory is gone");
    }

    [Fact]
    public void ALocalNodeInAnotherProcessRunsWorkloadD()
    {
        string name = "bench-test-" + Guid.NewGuid().ToString("N")[..12];
        using var server = new ChildProcess("rdmakv-server.dll", ["--name", name, "--data-dir", Path.Combine(_directory, "data"), "--memory", "128m",
            "--listen", "none", "--admin-urls", "none"], patience: Patience);
        server.WaitForOutput("is up");
        string json = Path.Combine(_directory, "local.json");
        var stderr = new StringWriter();
        int exit = Benchmark.Run(Small("D", "local:" + name, json), QuietProgress.Instance, new StringWriter(), stderr, CancellationToken.None);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var root = CheckReport(json, "D", 2000, 10_000, "INSERT", "READ");
        Assert.Equal("latest", root.GetProperty("settings").GetProperty("distribution").GetString());
        Assert.Equal(0, server.Stop());
        Assert.False(Directory.Exists($"/dev/shm/rdmakv-{name}"), "the node removed its shared memory");
    }

    [Fact]
    public void RdmakvBenchRunsTheSameBenchmark()
    {
        string json = Path.Combine(_directory, "cli.json");
        using var cli = new ChildProcess("rdmakv.dll", ["bench", "--workload", "f", "--records", "1000", "--operations", "4000",
            "--field-count", "4", "--field-length", "50", "--threads", "2", "--seed", "7", "--json", json], patience: Patience);
        int exit = cli.WaitForExit();
        Assert.True(exit == 0, $"exit {exit}: {cli.Errors}");
        var root = CheckReport(json, "F", 1000, 4000, "READ", "READ-MODIFY-WRITE");
        Assert.Equal(200, root.GetProperty("settings").GetProperty("recordBytes").GetInt32());
        Assert.Equal(7UL, root.GetProperty("settings").GetProperty("seed").GetUInt64());
        Assert.Contains("| run | READ-MODIFY-WRITE |", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RdmakvBenchWithoutTheBenchmarkBinarySaysHowToGetIt()
    {
        string missing = Path.Combine(_directory, "nowhere", "rdmakv-bench.dll");
        using var cli = new ChildProcess("rdmakv.dll", ["bench", "--workload", "C"], environment: new Dictionary<string, string> { ["RDMAKV_BENCH"] = missing }, patience: Patience);
        Assert.Equal(127, cli.WaitForExit());
        Assert.Contains(missing, cli.Errors, StringComparison.Ordinal);
        Assert.Contains("dotnet publish bench/RdmaKv.Bench", cli.Errors, StringComparison.Ordinal);
        Assert.Contains("RDMAKV_BENCH", cli.Errors, StringComparison.Ordinal);
        Assert.Equal("", cli.Output);
    }

    [Fact]
    public void WorkloadEIsRefusedWithTheReason()
    {
        using var cli = new ChildProcess("rdmakv.dll", ["bench", "--workload", "E"], patience: Patience);
        Assert.Equal(Benchmark.ExitBadOptions, cli.WaitForExit());
        Assert.Contains("range scans", cli.Errors, StringComparison.Ordinal);
        Assert.Contains("hash store", cli.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ATargetUriGoesToTheClientAsItIs()
    {
        // Until the UCX transport lands, the client says it does not know the scheme; after, nothing listens on port 1.
        foreach (string target in new[] { "ucx://127.0.0.1:1", "carrier-pigeon://loft" })
        {
            var stderr = new StringWriter();
            int exit = Benchmark.Run(Small("C", target, Path.Combine(_directory, "none.json")), QuietProgress.Instance, new StringWriter(), stderr, CancellationToken.None);
            Assert.Contains(exit, new[] { Benchmark.ExitBadOptions, Benchmark.ExitNoTarget });
            Assert.Contains(target, stderr.ToString(), StringComparison.Ordinal);
        }
        Assert.False(File.Exists(Path.Combine(_directory, "none.json")));
    }

    [Fact]
    public void NoNodeByThatNameIsAClearError()
    {
        var stderr = new StringWriter();
        int exit = Benchmark.Run(Small("C", "local:no-such-node-" + Guid.NewGuid().ToString("N")[..8], Path.Combine(_directory, "x.json")), QuietProgress.Instance, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(Benchmark.ExitNoTarget, exit);
        Assert.Contains("no node named", stderr.ToString(), StringComparison.Ordinal);
    }
}
