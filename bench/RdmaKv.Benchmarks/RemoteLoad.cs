using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Benchmarks;

/// <summary>
/// Remote GET and PUT over UCX against a node in this process (its own UCX worker and progress
/// thread; the client has another), side by side with a raw UCX READ of the same sizes through
/// the same connection code. Latency medians and p99 from timed single operations.
/// </summary>
static class RemoteLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        int keys = int.Parse(args.GetValueOrDefault("keys", "10000"));
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"));
        int count = int.Parse(args.GetValueOrDefault("ops", "20000"));
        string name = $"bench-ucx-{Environment.ProcessId}";
        string data = Path.Combine(Path.GetTempPath(), name);
        using var host = NodeHost.Start(new StorageNodeOptions { Name = name, DataDirectory = data, MemoryBytes = 1L << 30, Partitions = 4, AdminUrls = "none" },
            new NodeHostOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), ListenRequired = true }, NullLoggerFactory.Instance);
        var node = host.Node;
        var listener = host.Remote!;
        string token = ClientTokenFile.LoadOrCreate(Path.Combine(data, ClientTokenFile.FileName), out _);
        string uri = $"ucx://127.0.0.1:{listener.EndPoint.Port}";
        using var client = KvClient.Connect(uri, new KvClientOptions { Credential = token });
        byte[][] keyBytes = [.. Enumerable.Range(0, keys).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}"))];
        var value = new byte[valueSize];
        new Random(7).NextBytes(value);
        for (int i = 0; i < keys; i += 128) client.PutMany([.. keyBytes.Skip(i).Take(128).Select(k => (k, value))]);

        // Raw READs of a bucket and of an extent's size at the start of partition 0's region.
        using var raw = UcxClientConnection.Connect("127.0.0.1", listener.EndPoint.Port, new UcxClientOptions { Credential = token, ProtocolVersion = Protocol.Wire.ProtocolVersion });
        var hello = new System.Buffers.ArrayBufferWriter<byte>();
        Protocol.MessageEncoder.Hello(hello, 1, "bench", token);
        Protocol.MessageDecoder.TryDecode(raw.Call(hello.WrittenSpan[Protocol.Wire.LengthPrefix..], 1), out var reply, out _);
        var d0 = reply.Node!.Regions[0];
        var region = raw.Attach(d0.Partition, d0.Generation, d0.Length, d0.RemoteAddress, d0.RemoteKey);
        var small = new byte[64];
        var extent = new byte[Core.ExtentHeader.ExtentLength(keyBytes[0].Length, valueSize)];
        Report("raw UCX READ 64 B", Latencies.Time(count, _ => raw.Read(region, Core.RegionHeader.IndexOffset, small)));
        Report($"raw UCX READ {extent.Length} B", Latencies.Time(count, _ => raw.Read(region, Core.RegionHeader.IndexOffset, extent)));

        foreach (var (spin, progress) in new[] { (50, 0), (200, 0), (1000, 0), (1000, 200), (0, 0) })
        {
            using var tuned = UcxClientConnection.Connect("127.0.0.1", listener.EndPoint.Port,
                new UcxClientOptions { Spin = TimeSpan.FromMicroseconds(spin), ProgressSpin = TimeSpan.FromMicroseconds(progress), Credential = token, ProtocolVersion = Protocol.Wire.ProtocolVersion });
            var h = new System.Buffers.ArrayBufferWriter<byte>();
            Protocol.MessageEncoder.Hello(h, 1, "bench", token);
            Protocol.MessageDecoder.TryDecode(tuned.Call(h.WrittenSpan[Protocol.Wire.LengthPrefix..], 1), out var r, out _);
            var d = r.Node!.Regions[0];
            var reg = tuned.Attach(d.Partition, d.Generation, d.Length, d.RemoteAddress, d.RemoteKey);
            Report($"raw READ 64 B, caller drives {spin} us, client progress spin {progress} us", Latencies.Time(count / 2, _ => tuned.Read(reg, Core.RegionHeader.IndexOffset, small)));
        }

        var buffer = new byte[valueSize];
        var random = new Random(3);
        Report("GET, location cache hit", Latencies.Time(count, i => client.TryGet(keyBytes[i % 64], buffer, out _)));
        using (var cold = KvClient.Connect(uri, new KvClientOptions { Credential = token, LocationCacheEntries = 16 }))
            Report("GET, cold (buckets, then extent)", Latencies.Time(count, _ => cold.TryGet(keyBytes[random.Next(keys)], buffer, out _)));
        var batch = keyBytes.Take(32).ToArray();
        var multi = Latencies.Time(count / 32, _ => client.MultiGet(batch));
        Report("MultiGet of 32 (per batch)", multi);
        Console.WriteLine($"  MultiGet throughput {32 / Latencies.Median(multi) * 1e6:N0} keys/s");
        Report("PUT", Latencies.Time(count, i => client.Put(keyBytes[i % keys], value)));
        var reader = KvClient.ThreadReads;
        Console.WriteLine($"reader: lookups {reader.Lookups:N0}, cache hits {reader.CacheHits:N0}, retries {reader.Retries}, fallbacks {reader.Fallbacks}; node fallback GETs {node.Stats()["fallback_gets"]}");
        return 0;
    }


    static void Report(string what, double[] sorted) =>
        Console.WriteLine($"{what}: p50 {Latencies.Median(sorted):F1} us, p99 {Latencies.P99(sorted):F1} us ({sorted.Length} ops, {1e6 / sorted.Average():N0}/s)");
}
