using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Benchmarks;

/// <summary>
/// What a slot move costs the clients: three nodes in this process (UCX over tcp on
/// loopback), one client thread doing half GETs and half PUTs over all keys, latency per phase:
/// before, during and after moving one slot (of eight, or slots=N) to another node.
/// </summary>
static class MoveLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        int keys = int.Parse(args.GetValueOrDefault("keys", "40000"), CultureInfo.InvariantCulture);
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"), CultureInfo.InvariantCulture);
        double seconds = double.Parse(args.GetValueOrDefault("seconds", "3"), CultureInfo.InvariantCulture);
        int slots = int.Parse(args.GetValueOrDefault("slots", "8"), CultureInfo.InvariantCulture);
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        string dir = Directory.CreateTempSubdirectory("rdmakv-move-").FullName;
        var nodes = new List<NodeHost>();
        try
        {
            int[] ports = [.. Enumerable.Range(0, 3).Select(_ => FreePort())];
            string file = Path.Combine(dir, "cluster.json");
            File.WriteAllText(file, $"{{ \"epoch\": 1, \"slots\": {slots}, \"nodes\": [" +
                string.Join(",", ports.Select((p, i) => $"{{ \"id\": \"node{i + 1}\", \"ucx\": \"127.0.0.1:{p}\" }}")) + "] }");
            string tokenFile = Path.Combine(dir, "client-token");
            string token = ClientTokenFile.LoadOrCreate(tokenFile, out _);
            for (int i = 0; i < 3; i++)
            {
                var host = NodeHost.Start(new StorageNodeOptions
                {
                    Name = $"bench-move-{Environment.ProcessId}-{i}",
                    DataDirectory = Path.Combine(dir, $"node{i + 1}"),
                    ClusterFile = file,
                    NodeId = $"node{i + 1}",
                    ClientTokenFile = tokenFile,
                    ClusterTokenFile = Path.Combine(dir, "cluster-token"),
                    AdminUrls = "none",
                    Listen = "none",
                    MemoryBytes = 512L << 20,
                });
                host.AddRemote(new IPEndPoint(IPAddress.Loopback, ports[i]));
                nodes.Add(host);
            }
            var map = ClusterMap.Load(file);
            using var client = KvClient.Connect($"ucx://127.0.0.1:{ports[0]}", new KvClientOptions { Credential = token });
            byte[][] keyBytes = [.. Enumerable.Range(0, keys).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}"))];
            var value = new byte[valueSize];
            for (int i = 0; i < keys; i += 256) client.PutMany([.. keyBytes.Skip(i).Take(256).Select(k => (k, value))]);
            int slot = 0;
            string from = map.Owners[slot], to = map.Nodes.First(n => n.Id != from).Id;
            int inSlot = keyBytes.Count(k => map.SlotOf(k) == slot);
            Console.WriteLine($"loaded {keys:N0} keys of {valueSize} B over 3 nodes, {slots} slots; slot {slot} ({inSlot:N0} keys) moves from {from} to {to}");

            var phases = new Dictionary<string, List<long>> { ["before"] = [], ["during"] = [], ["after"] = [] };
            string phase = "before";
            using var stop = new CancellationTokenSource();
            long errors = 0;
            var load = new Thread(() =>
            {
                var random = new Random(3);
                var buffer = new byte[valueSize];
                while (!stop.IsCancellationRequested)
                {
                    byte[] key = keyBytes[random.Next(keys)];
                    long t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        if (random.Next(2) == 0) client.TryGet(key, buffer, out _);
                        else client.Put(key, value);
                    }
                    catch (Exception e) when (e is KvException or KvConnectionException)
                    {
                        errors++;
                    }
                    long elapsed = Stopwatch.GetTimestamp() - t0;
                    var list = phases[Volatile.Read(ref phase)];
                    lock (list) list.Add(elapsed);
                }
            });
            load.Start();
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            Volatile.Write(ref phase, "during");
            var owner = nodes.First(n => n.Node.Options.NodeId == from).Node;
            var report = owner.MoveSlot(slot, to);
            Volatile.Write(ref phase, "after");
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            stop.Cancel();
            load.Join();
            Console.WriteLine($"move: {report.ElapsedMs:N0} ms ({report.ScanMs:N0} ms scanning {from}'s store, {report.RetireMs:N0} ms retiring its regions), {report.KeysCopied:N0} keys copied, {report.KeysDropped:N0} dropped on {from}, epoch {report.Epoch}; client errors {errors}");
            foreach (var (name, list) in phases)
            {
                if (list.Count == 0) continue;
                list.Sort();
                double us(double q) => list[(int)(q * (list.Count - 1))] * 1e6 / Stopwatch.Frequency;
                Console.WriteLine($"{name,-6}: {list.Count,8:N0} ops, p50 {us(0.5),8:F1} us, p99 {us(0.99),9:F1} us, max {us(1),10:F1} us");
            }
            return 0;
        }
        finally
        {
            foreach (var host in nodes) host.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
