using System.Diagnostics;
using System.Globalization;
using System.Text;
using RdmaKv.Bench.Ycsb;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Storage;

namespace RdmaKv.Benchmarks;

/// <summary>
/// The cold tier's hit ratio: a node whose regions may hold REGION bytes, a data set FACTOR times
/// that, then YCSB-style scrambled zipfian GETs (constant 0.99) from one local client in windows;
/// each window reports the share of GETs answered one-sided from the region (the rest fell back
/// to the node, which read the store and promoted the value).
/// </summary>
static class HitRatioLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        long region = SizeParser.TryParse(args.GetValueOrDefault("region", "32m"), out long r) ? r : throw new ArgumentException("region= is a size like 32m");
        int factor = int.Parse(args.GetValueOrDefault("factor", "8"), CultureInfo.InvariantCulture);
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"), CultureInfo.InvariantCulture);
        int windows = int.Parse(args.GetValueOrDefault("windows", "6"), CultureInfo.InvariantCulture);
        int perWindow = int.Parse(args.GetValueOrDefault("ops", "200000"), CultureInfo.InvariantCulture);
        int keys = (int)(factor * region / valueSize);
        string name = $"bench-hits-{Environment.ProcessId}";
        string data = Path.Combine(Path.GetTempPath(), name);
        try
        {
            using var host = NodeHost.Start(new StorageNodeOptions
            {
                Name = name,
                DataDirectory = data,
                MemoryBytes = region,
                StoreMemoryBytes = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)(2L * keys * (valueSize + 64))),
                Durability = DurabilityMode.None,
                CheckpointInterval = Timeout.InfiniteTimeSpan,
                AdminUrls = "none",
                Listen = "none",
            });
            var node = host.Node;
            using var client = KvClient.Connect("local:" + name);
            var value = new byte[valueSize];
            var load = Stopwatch.StartNew();
            for (int i = 0; i < keys; i += 256)
            {
                client.PutMany([.. Enumerable.Range(i, Math.Min(256, keys - i)).Select(k => (Key(k), Stamp(value, k)))]);
            }
            var stats = node.Stats();
            Console.WriteLine($"loaded {keys:N0} keys of {valueSize} B ({(long)keys * valueSize >> 20} MiB, {factor}x the {region >> 20} MiB region budget) in {load.Elapsed.TotalSeconds:F1} s; " +
                $"{stats["cold_keys"]:N0} not resident");

            var zipf = new ScrambledZipfianGenerator(0, keys - 1);
            var rng = new Rng(5);
            var buffer = new byte[valueSize];
            for (int w = 0; w < windows; w++)
            {
                var before = KvClient.ThreadReads;
                long promotions = node.Stats()["promotions"];
                var window = Stopwatch.StartNew();
                for (int i = 0; i < perWindow; i++)
                {
                    int k = (int)zipf.Next(rng);
                    if (!client.TryGet(Key(k), buffer, out int length) || length != valueSize || BitConverter.ToInt32(buffer) != k)
                        throw new InvalidOperationException($"key {k} read back wrong");
                }
                double seconds = window.Elapsed.TotalSeconds;
                var reads = KvClient.ThreadReads - before;
                long misses = reads.Fallbacks;
                long gets = reads.Lookups;
                Console.WriteLine($"window {w + 1}: {perWindow:N0} zipfian GETs, region hit ratio {1 - (double)misses / gets:P1} " +
                    $"({misses:N0} answered by the node from the store), {perWindow / seconds:N0} GETs/s, {node.Stats()["promotions"] - promotions:N0} promotions");
            }
            return 0;
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    static byte[] Key(int k) => Encoding.UTF8.GetBytes($"user{k:D12}");

    static byte[] Stamp(byte[] value, int k)
    {
        var copy = (byte[])value.Clone();
        BitConverter.TryWriteBytes(copy, k);
        return copy;
    }
}
