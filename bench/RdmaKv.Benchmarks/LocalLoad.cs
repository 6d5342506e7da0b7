using System.Diagnostics;
using System.Globalization;
using System.Text;
using RdmaKv.Bench.Ycsb;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Storage;

namespace RdmaKv.Benchmarks;

/// <summary>
/// Single-client local GET and PUT throughput and latency against a node in this process (its
/// regions in /dev/shm, mapped by the client like any other process would). Throughput comes from
/// untimed loops in one-second windows (median reported); latency from a separate timed pass.
/// </summary>
static class LocalLoad
{
    /// <summary>Runs the load once per durability mode named (comma-separated), each against a fresh node, side by side.</summary>
    public static int Run(string mode, Dictionary<string, string> args)
    {
        foreach (string durability in args.GetValueOrDefault("durability", "async").Split(','))
        {
            int code = RunOnce(mode, durability, args);
            if (code != 0) return code;
        }
        return 0;
    }

    static int RunOnce(string mode, string durabilityName, Dictionary<string, string> args)
    {
        string name = $"bench-{Environment.ProcessId}";
        string data = Path.Combine(Path.GetTempPath(), name);
        if (!DurabilityModes.TryParse(durabilityName, out var durability))
            throw new ArgumentException("durability= is none, async or sync, or several of them separated by commas");
        var nodeOptions = new StorageNodeOptions
        {
            Name = name,
            DataDirectory = data,
            MemoryBytes = 2L << 30,
            Partitions = 4,
            Durability = durability,
            AdminUrls = "none",
            Listen = "none",
            CommitInterval = TimeSpan.FromMilliseconds(double.Parse(args.GetValueOrDefault("commit-ms", "5"), CultureInfo.InvariantCulture)),
            SpinBeforeBlock = TimeSpan.FromMicroseconds(double.Parse(args.GetValueOrDefault("spin-us", "50"), CultureInfo.InvariantCulture)),
        };
        try
        {
            using var host = NodeHost.Start(nodeOptions);
            var node = host.Node;
            return Measure(mode, node, name, durability, args);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    static int Measure(string mode, StorageNode node, string name, DurabilityMode durability, Dictionary<string, string> args)
    {
        int keys = int.Parse(args.GetValueOrDefault("keys", "100000"));
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"));
        int seconds = int.Parse(args.GetValueOrDefault("seconds", "5"));
        string distribution = args.GetValueOrDefault("distribution", "uniform");
        var writes = args.GetValueOrDefault("writes", "mailbox") == "socket" ? LocalWritePath.Socket : LocalWritePath.Mailbox;
        int cacheEntries = int.Parse(args.GetValueOrDefault("cache", (1 << 18).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        using var client = KvClient.Connect("local:" + name, new KvClientOptions { LocalWrites = writes, LocationCacheEntries = cacheEntries });
        using var listener = ClientListener.Start(args.GetValueOrDefault("listen", "none"));
        byte[][] keyBytes = Enumerable.Range(0, keys).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}")).ToArray();
        var value = new byte[valueSize];
        new Random(7).NextBytes(value);
        var load = Stopwatch.StartNew();
        // ttl=SECONDS: every key expires that far ahead (puts one by one), so GETs run the expiry check.
        double ttl = double.Parse(args.GetValueOrDefault("ttl", "0"), CultureInfo.InvariantCulture);
        if (ttl > 0)
            foreach (var k in keyBytes) client.Put(k, value, DateTimeOffset.UtcNow.AddSeconds(ttl));
        else
            for (int i = 0; i < keys; i += 256)
                client.PutMany([.. keyBytes.Skip(i).Take(256).Select(k => (k, value))]);
        Console.WriteLine($"loaded {keys} keys of {valueSize} B{(ttl > 0 ? $", expiring in {ttl} s," : "")} in {load.Elapsed.TotalSeconds:F2} s");

        long[] order = MakeOrder(keys, distribution);
        var buffer = new byte[valueSize];
        long cursor = 0;
        Func<bool> op = mode switch
        {
            "get" => () => client.TryGet(keyBytes[order[cursor++ & (order.Length - 1)]], buffer, out _),
            "put" => () =>
            {
                client.Put(keyBytes[order[cursor++ & (order.Length - 1)]], value);
                return true;
            }
            ,
            "put-direct" => () => node.Put(keyBytes[order[cursor++ & (order.Length - 1)]], value) == Core.StoreStatus.Ok,
            _ => throw new ArgumentException($"unknown mode {mode}"),
        };
        for (int i = 0; i < 100_000; i++) op(); // warm up: JIT tiers, location cache

        var rates = new List<double>();
        for (int s = 0; s < seconds; s++)
        {
            long n = 0;
            var window = Stopwatch.StartNew();
            while (window.ElapsedTicks < Stopwatch.Frequency)
            {
                for (int i = 0; i < 1000; i++) op();
                n += 1000;
            }
            rates.Add(n / window.Elapsed.TotalSeconds);
        }
        rates.Sort();

        var latencies = new long[Math.Min(1_000_000, (int)(rates[rates.Count / 2] * 1))];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < latencies.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            op();
            latencies[i] = Stopwatch.GetTimestamp() - t0;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Array.Sort(latencies);
        double us(double q) => latencies[(int)(q * (latencies.Length - 1))] * 1e6 / Stopwatch.Frequency;
        var reader = KvClient.ThreadReads;
        Console.WriteLine($"{mode} {distribution} durability={durability.Name()} writes={writes} keys={keys} value={valueSize}B: median {rates[rates.Count / 2]:N0} ops/s " +
            $"(min {rates[0]:N0}, max {rates[^1]:N0}); latency p50 {us(0.5):F2} us, p99 {us(0.99):F2} us, p99.9 {us(0.999):F2} us; " +
            $"{(double)allocated / latencies.Length:F1} B allocated per operation");
        if (listener is not null) Console.WriteLine($"listener: {listener.Measurements:N0} measurements of the client's meter");
        if (args.GetValueOrDefault("listen") == "alternate") ClientListener.Alternate(op, seconds);
        Console.WriteLine($"reader: lookups {reader.Lookups:N0}, cache hits {reader.CacheHits:N0}, retries {reader.Retries}, " +
            $"checksum failures {reader.ChecksumFailures}, fallbacks {reader.Fallbacks}, refreshes {reader.Refreshes}");
        if (mode == "get")
        {
            // Side by side in the same process and minute: the machine is shared and noisy.
            double floor = MemoryFloor.Measure(keys, valueSize, keyBytes[0].Length, order, seconds);
            Console.WriteLine($"memory floor (random dependent {valueSize} B extent copy + checksum, no index): median {floor:N0} ops/s; " +
                $"GET reaches {rates[rates.Count / 2] / floor:P0} of it");
        }
        return 0;
    }

    /// <summary>A power-of-two sequence of key indexes drawn ahead of time, so drawing costs nothing in the loop.</summary>
    static long[] MakeOrder(int keys, string distribution)
    {
        var order = new long[1 << 22];
        var random = new Random(11);
        var zipf = distribution == "zipfian" ? new ScrambledZipfianGenerator(0, keys - 1) : null;
        var rng = new Rng(11);
        for (int i = 0; i < order.Length; i++) order[i] = zipf?.Next(rng) ?? random.NextInt64(keys);
        return order;
    }
}
