using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RdmaKv.Extensions;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Benchmarks;

/// <summary>
/// IDistributedCache.Get of one entry (1 KiB by default) through RdmaKv (local: and ucx://, both
/// AddRdmaKvDistributedCache) and through Microsoft.Extensions.Caching.StackExchangeRedis on a
/// local redis-server started here, in rounds that alternate the three: latency medians and p99
/// of timed single Gets from one thread.
/// </summary>
static class CacheCompare
{
    public static int Run(Dictionary<string, string> args)
    {
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        int valueSize = int.Parse(args.GetValueOrDefault("value", "1024"));
        int count = int.Parse(args.GetValueOrDefault("ops", "20000"));
        int rounds = int.Parse(args.GetValueOrDefault("rounds", "3"));
        string name = $"bench-cache-{Environment.ProcessId}";
        string data = Path.Combine(Path.GetTempPath(), name);
        using var host = NodeHost.Start(new StorageNodeOptions { Name = name, DataDirectory = data, MemoryBytes = 256L << 20, AdminUrls = "none" },
            new NodeHostOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), ListenRequired = true }, NullLoggerFactory.Instance);
        string token = ClientTokenFile.LoadOrCreate(Path.Combine(data, ClientTokenFile.FileName), out _);
        int redisPort = FreePort();
        using var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        { RedirectStandardOutput = true, UseShellExecute = false }) ?? throw new InvalidOperationException("redis-server did not start (apt-get install -y redis-server)");
        try
        {
            WaitForPort(redisPort);
            var caches = new (string Name, ServiceProvider Services)[]
            {
                ("RdmaKv local:", Provider(s => s.AddRdmaKv(o => o.Connect = "local:" + name).AddRdmaKvDistributedCache())),
                ("RdmaKv ucx://", Provider(s => s.AddRdmaKv(o => { o.Connect = $"ucx://127.0.0.1:{host.Remote!.EndPoint.Port}"; o.Token = token; }).AddRdmaKvDistributedCache())),
                ("StackExchangeRedis", Provider(s => s.AddStackExchangeRedisCache(o => o.Configuration = $"127.0.0.1:{redisPort}"))),
            };
            var value = new byte[valueSize];
            new Random(7).NextBytes(value);
            foreach (var (_, services) in caches) services.GetRequiredService<IDistributedCache>().Set("bench-entry", value, new DistributedCacheEntryOptions());
            var medians = caches.ToDictionary(c => c.Name, _ => new List<double>());
            for (int round = 1; round <= rounds; round++)
            {
                foreach (var (cacheName, services) in caches)
                {
                    var cache = services.GetRequiredService<IDistributedCache>();
                    var us = Latencies.Time(count, _ =>
                    {
                        if (cache.Get("bench-entry") is not { Length: var n } || n != valueSize) throw new InvalidOperationException($"{cacheName}: the entry is missing");
                    });
                    medians[cacheName].Add(Latencies.Median(us));
                    Console.WriteLine($"round {round} {cacheName,-20} IDistributedCache.Get {valueSize} B: p50 {Latencies.Median(us):F2} us, p99 {Latencies.P99(us):F2} us");
                }
            }
            double redisMedian = Median(medians["StackExchangeRedis"]);
            foreach (var (cacheName, list) in medians)
                Console.WriteLine($"median of round p50s: {cacheName,-20} {Median(list):F2} us ({redisMedian / Median(list):F1}x StackExchangeRedis)");
            foreach (var (_, services) in caches) services.Dispose();
            return 0;
        }
        finally
        {
            redis.Kill();
            redis.WaitForExit();
            Directory.Delete(data, recursive: true);
        }
    }

    static ServiceProvider Provider(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        return services.BuildServiceProvider();
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    static void WaitForPort(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(50);
            }
        }
    }
}
