using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Benchmarks;

/// <summary>
/// What replication costs a client: two three-node clusters in this process (UCX over tcp on
/// loopback), one with one copy of each slot and one with two, measured in alternating rounds so
/// that both see the same machine: PUT latency (one round trip to the backup more) and GET latency
/// (one-sided on the primary, which should not change).
/// </summary>
static class ReplicationLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        int keys = int.Parse(args.GetValueOrDefault("keys", "10000"), CultureInfo.InvariantCulture);
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"), CultureInfo.InvariantCulture);
        int ops = int.Parse(args.GetValueOrDefault("ops", "20000"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(args.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        string durability = args.GetValueOrDefault("durability", "async");
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        string dir = Directory.CreateTempSubdirectory("rdmakv-replication-").FullName;
        var clusters = new List<Cluster>();
        try
        {
            foreach (int replicas in new[] { 1, 2 }) clusters.Add(Cluster.Start(Path.Combine(dir, $"r{replicas}"), replicas, durability));
            byte[][] keyBytes = [.. Enumerable.Range(0, keys).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}"))];
            var value = new byte[valueSize];
            foreach (var c in clusters)
                for (int i = 0; i < keys; i += 256) c.Client.PutMany([.. keyBytes.Skip(i).Take(256).Select(k => (k, value))]);
            Console.WriteLine($"{keys:N0} keys of {valueSize} B on 3 nodes per cluster, durability {durability}; {ops:N0} PUTs and {ops:N0} GETs per cluster per round, {rounds} rounds alternating");
            var puts = clusters.ToDictionary(c => c.Replicas, _ => new List<double>());
            var gets = clusters.ToDictionary(c => c.Replicas, _ => new List<double>());
            var buffer = new byte[valueSize];
            for (int round = 0; round < rounds; round++)
            {
                foreach (var c in clusters)
                {
                    var random = new Random(round);
                    puts[c.Replicas].AddRange(Latencies.Time(ops, _ => c.Client.Put(keyBytes[random.Next(keys)], value)));
                    gets[c.Replicas].AddRange(Latencies.Time(ops, _ => c.Client.TryGet(keyBytes[random.Next(keys)], buffer, out _)));
                }
            }
            foreach (var c in clusters)
            {
                double[] p = [.. puts[c.Replicas].Order()], g = [.. gets[c.Replicas].Order()];
                Console.WriteLine($"R={c.Replicas}: PUT p50 {Latencies.Median(p),7:F1} us  p99 {Latencies.P99(p),8:F1} us | GET p50 {Latencies.Median(g),6:F1} us  p99 {Latencies.P99(g),7:F1} us");
            }
            double ratio = Latencies.Median([.. puts[2].Order()]) / Latencies.Median([.. puts[1].Order()]);
            Console.WriteLine($"PUT p50 R=2 / R=1: {ratio:F2}x; GET p50 R=2 / R=1: {Latencies.Median([.. gets[2].Order()]) / Latencies.Median([.. gets[1].Order()]):F2}x");
            return 0;
        }
        finally
        {
            foreach (var c in clusters) c.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    sealed class Cluster(int replicas, List<NodeHost> nodes, KvClient client) : IDisposable
    {
        public int Replicas => replicas;
        public KvClient Client => client;

        public static Cluster Start(string dir, int replicas, string durability)
        {
            Directory.CreateDirectory(dir);
            int[] ports = [.. Enumerable.Range(0, 3).Select(_ => FreePort())];
            string file = Path.Combine(dir, "cluster.json");
            File.WriteAllText(file, $"{{ \"epoch\": 1, \"slots\": 64, \"replicas\": {replicas}, \"nodes\": [" +
                string.Join(",", ports.Select((p, i) => $"{{ \"id\": \"node{i + 1}\", \"ucx\": \"127.0.0.1:{p}\" }}")) + "] }");
            string tokenFile = Path.Combine(dir, "client-token");
            string token = ClientTokenFile.LoadOrCreate(tokenFile, out _);
            var nodes = new List<NodeHost>();
            for (int i = 0; i < 3; i++)
            {
                var host = NodeHost.Start(new StorageNodeOptions
                {
                    Name = $"bench-r{replicas}-{Environment.ProcessId}-{i}",
                    DataDirectory = Path.Combine(dir, $"node{i + 1}"),
                    ClusterFile = file,
                    NodeId = $"node{i + 1}",
                    ClientTokenFile = tokenFile,
                    ClusterTokenFile = Path.Combine(dir, "cluster-token"),
                    AdminUrls = "none",
                    Listen = "none",
                    MemoryBytes = 256L << 20,
                    Durability = Enum.Parse<Storage.DurabilityMode>(durability, ignoreCase: true),
                });
                host.AddRemote(new IPEndPoint(IPAddress.Loopback, ports[i]));
                nodes.Add(host);
            }
            var client = KvClient.Connect("ucx://" + string.Join(",", ports.Select(p => $"127.0.0.1:{p}")), new KvClientOptions { Credential = token });
            return new Cluster(replicas, nodes, client);
        }

        public void Dispose()
        {
            client.Dispose();
            foreach (var host in nodes) host.Dispose();
        }
    }

    static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
