using BenchmarkDotNet.Running;
using RdmaKv.Benchmarks;

// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- get [keys=100000] [value=1024] [seconds=5] [distribution=uniform|zipfian] [ttl=SECONDS: keys that expire] [listen=none|meter|alternate]
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- put [seconds=5]
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- remote [keys=10000] [value=1024] [ops=20000]   (UCX)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- remote-reads [keys=10000] [value=1024] [ops=20000] [rounds=3]   (one-sided vs message READs)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- recovery [keys=1000000] [tail=100000] [value=1024] [rounds=2]
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- hit-ratio [region=32m] [factor=8] [value=1024]
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- move [keys=40000] [value=1024] [seconds=3] [slots=8]   (latency while a slot moves)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- replication [keys=10000] [value=1024] [ops=20000] [rounds=3] [durability=async]   (PUT/GET latency, R=1 vs R=2)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- admin-flood [seconds=5] [connections=16] [paths=/metrics,/health/live] [rounds=1] [server=path/to/rdmakv-server.dll]   (local puts while the admin plane is flooded)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- cache [value=1024] [ops=20000] [rounds=3]   (IDistributedCache.Get: RdmaKv local: and ucx:// against StackExchangeRedis on a local redis-server)
// dotnet run -c Release --project bench/RdmaKv.Benchmarks -- bdn   (BenchmarkDotNet, allocation check of TryGet)
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: get|put|put-direct|remote|remote-reads|recovery|hit-ratio [key=value ...] | bdn [BenchmarkDotNet args]");
    return 2;
}
if (args[0] == "bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(TryGetBenchmark).Assembly).Run(args[1..]);
    return 0;
}
var options = args[1..].Select(a => a.Split('=', 2)).ToDictionary(p => p[0].TrimStart('-'), p => p.Length > 1 ? p[1] : "");
return args[0] switch
{
    "remote" => RemoteLoad.Run(options),
    "remote-reads" => RemoteReadCompare.Run(options),
    "recovery" => RecoveryLoad.Run(options),
    "recovery-child" => RecoveryLoad.Child(options),
    "hit-ratio" => HitRatioLoad.Run(options),
    "move" => MoveLoad.Run(options),
    "replication" => ReplicationLoad.Run(options),
    "admin-flood" => AdminFloodLoad.Run(options),
    "cache" => CacheCompare.Run(options),
    "admin-flood-child" => AdminFloodLoad.Child(options),
    _ => LocalLoad.Run(args[0], options),
};
