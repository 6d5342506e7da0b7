using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Benchmarks;

/// <summary>
/// Remote GETs through the two read paths side by side: two nodes in this process, one serving
/// one-sided READs (UCX's emulation over tcp), one serving message READs, the same keys in each,
/// measured in alternating rounds so the machine's noise falls on both alike.
/// </summary>
static class RemoteReadCompare
{
    public static int Run(Dictionary<string, string> args)
    {
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        int keys = int.Parse(args.GetValueOrDefault("keys", "10000"));
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"));
        int count = int.Parse(args.GetValueOrDefault("ops", "20000"));
        int rounds = int.Parse(args.GetValueOrDefault("rounds", "3"));
        byte[][] keyBytes = [.. Enumerable.Range(0, keys).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}"))];
        var value = new byte[valueSize];
        new Random(7).NextBytes(value);

        var paths = new[] { RemoteReadPath.OneSided, RemoteReadPath.Messages };
        var nodes = new List<IDisposable>();
        var clients = new Dictionary<RemoteReadPath, (KvClient Warm, KvClient Cold)>();
        var storageNodes = new Dictionary<RemoteReadPath, StorageNode>();
        try
        {
            foreach (var path in paths)
            {
                string name = $"bench-reads-{RemoteReadPaths.Name(path)}-{Environment.ProcessId}";
                string data = Path.Combine(Path.GetTempPath(), name);
                var host = NodeHost.Start(new StorageNodeOptions { Name = name, DataDirectory = data, MemoryBytes = 512L << 20, Partitions = 4, RemoteReads = path, AdminUrls = "none" },
                    new NodeHostOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), ListenRequired = true }, NullLoggerFactory.Instance);
                nodes.Add(host);
                storageNodes[path] = host.Node;
                var listener = host.Remote!;
                string token = ClientTokenFile.LoadOrCreate(Path.Combine(data, ClientTokenFile.FileName), out _);
                string uri = $"ucx://127.0.0.1:{listener.EndPoint.Port}";
                var warm = KvClient.Connect(uri, new KvClientOptions { Credential = token });
                var cold = KvClient.Connect(uri, new KvClientOptions { Credential = token, LocationCacheEntries = 16 });
                nodes.Add(warm);
                nodes.Add(cold);
                clients[path] = (warm, cold);
                for (int i = 0; i < keys; i += 128) warm.PutMany([.. keyBytes.Skip(i).Take(128).Select(k => (k, value))]);
            }
            var buffer = new byte[valueSize];
            var batch = keyBytes.Take(32).ToArray();
            for (int round = 1; round <= rounds; round++)
            {
                foreach (var path in paths)
                {
                    var (warm, cold) = clients[path];
                    var random = new Random(round);
                    string p = RemoteReadPaths.Name(path);
                    Report(round, p, "GET, location cache hit", Latencies.Time(count, i => warm.TryGet(keyBytes[i % 64], buffer, out _)));
                    Report(round, p, "GET, cold (buckets, then extent)", Latencies.Time(count, _ => cold.TryGet(keyBytes[random.Next(keys)], buffer, out _)));
                    Report(round, p, "MultiGet of 32 (per batch)", Latencies.Time(count / 32, _ => warm.MultiGet(batch)));
                }
            }
            foreach (var path in paths)
                Console.WriteLine($"{RemoteReadPaths.Name(path)}: node fallback GETs {storageNodes[path].Stats()["fallback_gets"]}");
            return 0;
        }
        finally
        {
            for (int i = nodes.Count - 1; i >= 0; i--) nodes[i].Dispose();
        }
    }


    static void Report(int round, string path, string what, double[] sorted) =>
        Console.WriteLine($"round {round} {path,-9} {what}: p50 {Latencies.Median(sorted):F1} us, p99 {Latencies.P99(sorted):F1} us ({sorted.Length} ops)");
}
