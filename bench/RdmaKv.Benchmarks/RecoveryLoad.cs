using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Storage;

namespace RdmaKv.Benchmarks;

/// <summary>
/// Recovery time: a child process loads KEYS keys, checkpoints, writes TAIL more puts (left in
/// the log only) and is killed with SIGKILL; this process then starts a node on its data
/// directory (checkpoint + log replay + region rebuild), stops it cleanly (a checkpoint) and
/// starts it once more (checkpoint only).
/// </summary>
static class RecoveryLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        int keys = int.Parse(args.GetValueOrDefault("keys", "1000000"));
        int tail = int.Parse(args.GetValueOrDefault("tail", "100000"));
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"));
        string name = $"bench-recovery-{Environment.ProcessId}";
        string data = Path.Combine(Path.GetTempPath(), name);
        try
        {
            var load = Stopwatch.StartNew();
            LoadInChildAndKill(name, data, keys, tail, valueSize);
            Console.WriteLine($"child loaded {keys:N0} keys + {tail:N0} log-only puts of {valueSize} B and was killed (SIGKILL) after {load.Elapsed.TotalSeconds:F1} s");
            Report("after SIGKILL", name, data, keys, valueSize);
            Report("after a clean stop", name, data, keys, valueSize);
            // The region rebuild on one thread and on one per core, alternating, side by side.
            int rounds = int.Parse(args.GetValueOrDefault("rounds", "2"));
            for (int round = 0; round < rounds; round++)
                foreach (int threads in new[] { 1, 0 })
                    Report($"after a clean stop, rebuild threads {(threads == 0 ? $"one per core ({Environment.ProcessorCount})" : threads)}", name, data, keys, valueSize, threads);
            return 0;
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    static StorageNodeOptions Options(string name, string data, int keys, int valueSize, int rebuildThreads = 0) => new()
    {
        RebuildThreads = rebuildThreads,
        Name = name,
        DataDirectory = data,
        MemoryBytes = Math.Max(256L << 20, 2L * keys * (valueSize + 64)),
        StoreMemoryBytes = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)(2L * keys * (valueSize + 64))),
        Partitions = 4,
        Durability = DurabilityMode.Async,
        CheckpointInterval = Timeout.InfiniteTimeSpan,
        AdminUrls = "none",
        Listen = "none",
    };

    static void Report(string when, string name, string data, int keys, int valueSize, int rebuildThreads = 0)
    {
        var started = Stopwatch.StartNew();
        using var host = NodeHost.Start(Options(name, data, keys, valueSize, rebuildThreads));
        var node = host.Node;
        var total = started.Elapsed;
        var (rebuilt, rebuildTime) = node.Rebuilt;
        Console.WriteLine($"start {when}: {total.TotalSeconds:F2} s until open for clients; store recovery {node.Recovery.Elapsed.TotalSeconds:F2} s " +
            $"({node.Recovery.RecordsReplayed:N0} log records replayed), region rebuild {rebuildTime.TotalSeconds:F2} s ({rebuilt:N0} keys)");
        using var client = KvClient.Connect("local:" + name);
        var buffer = new byte[valueSize];
        int missing = 0;
        for (int i = 0; i < keys; i++)
            if (!client.TryGet(Encoding.UTF8.GetBytes($"user{i:D12}"), buffer, out _)) missing++;
        if (missing > 0) Console.WriteLine($"  MISSING: {missing:N0} of {keys:N0} keys do not read back");
    }

    /// <summary>The child's side (mode recovery-child): load, checkpoint, write the tail, say so, wait to be killed.</summary>
    public static int Child(Dictionary<string, string> args)
    {
        int keys = int.Parse(args["keys"]), tail = int.Parse(args["tail"]), valueSize = int.Parse(args["value"]);
        using var host = NodeHost.Start(Options(args["name"], args["data"], keys, valueSize));
        var node = host.Node;
        using var client = KvClient.Connect("local:" + args["name"]);
        var value = new byte[valueSize];
        new Random(3).NextBytes(value);
        const int Batch = 256;
        var batch = new List<(byte[], byte[])>(Batch);
        for (int i = 0; i < keys + tail; i++)
        {
            batch.Add((Encoding.UTF8.GetBytes($"user{i % keys:D12}"), value));
            if (batch.Count == Batch || i == keys - 1 || i == keys + tail - 1)
            {
                client.PutMany(batch);
                batch.Clear();
            }
            if (i == keys - 1) node.Checkpoint();
        }
        Thread.Sleep(100); // a few async commit windows: the tail is in the log on disk
        var buffer = new byte[valueSize];
        int missing = 0;
        for (int i = 0; i < keys; i++)
            if (!client.TryGet(Encoding.UTF8.GetBytes($"user{i:D12}"), buffer, out _)) missing++;
        Console.WriteLine($"before the kill: {missing:N0} of {keys:N0} keys missing; node counts {node.Stats()["keys"]:N0} keys");
        Console.WriteLine("loaded");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    static void LoadInChildAndKill(string name, string data, int keys, int tail, int valueSize)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(RecoveryLoad).Assembly.Location);
        foreach (string a in new[] { "recovery-child", $"name={name}", $"data={data}", $"keys={keys}", $"tail={tail}", $"value={valueSize}" }) info.ArgumentList.Add(a);
        using var child = Process.Start(info) ?? throw new InvalidOperationException("could not start the loading child");
        try
        {
            string? line;
            while ((line = child.StandardOutput.ReadLine()) is not null && line != "loaded")
                if (line.StartsWith("before", StringComparison.Ordinal)) Console.WriteLine(line);
            if (line is null) throw new InvalidOperationException($"the loading child exited with {child.WaitForExitAsync().Wait(10_000) switch { true => child.ExitCode, false => -1 }} before it loaded");
        }
        finally
        {
            child.Kill(); // SIGKILL: no checkpoint, no clean stop
            child.WaitForExit();
        }
        // The killed node could not remove its shared memory; the next start with its name sweeps it.
    }
}
