using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RdmaKv.Admin;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;

var defaults = new StorageNodeOptions();
var name = new Option<string>("--name") { Description = "node name; local clients connect with local:NAME", DefaultValueFactory = _ => defaults.Name };
var dataDir = new Option<string>("--data-dir") { Description = "directory for the node's durable state", DefaultValueFactory = _ => defaults.DataDirectory };
var memory = new Option<string>("--memory") { Description = "memory for all regions, e.g. 256m or 2g", DefaultValueFactory = _ => "256m" };
var partitions = new Option<int>("--partitions") { Description = "partitions on this node", DefaultValueFactory = _ => defaults.Partitions };

var root = new RootCommand("RdmaKv storage node: serves its partitions to local clients through shared memory")
{
    name, dataDir, memory, partitions,
};
var adminUrls = new Option<string>("--admin-urls") { Description = "where the admin plane (HTTP API, /metrics, /health, dashboard) listens, ';'-separated, or 'none'", DefaultValueFactory = _ => defaults.AdminUrls };
root.Options.Add(adminUrls);
var adminHosts = new Option<string?>("--admin-hosts") { Description = "host names the admin plane answers besides localhost, 127.0.0.1, [::1], its --admin-urls hosts and this machine's name, ';'-separated, or '*' for any" };
var adminRateLimit = new Option<int>("--admin-rate-limit") { Description = "admin requests per second each address may make without the admin token (twice that in a burst); beyond it 429", DefaultValueFactory = _ => defaults.AdminRateLimit };
var adminMetricsCache = new Option<int>("--admin-metrics-cache-ms") { Description = "how long one rendering of /metrics is served again, in milliseconds (0: every scrape renders)", DefaultValueFactory = _ => (int)defaults.AdminMetricsCache.TotalMilliseconds };
root.Options.Add(adminHosts);
root.Options.Add(adminRateLimit);
root.Options.Add(adminMetricsCache);
var durability = DurabilityCommandLine.AddTo(root);
var listen = RemoteAccess.AddTo(root, defaults);
var remoteReads = RemoteAccess.AddReadsTo(root);
var cluster = ClusterCommandLine.AddTo(root);
root.SetAction(async (parse, cancel) =>
{
    // SIGTERM or Ctrl-C during start-up, before the host listens for them, still means a clean
    // stop (drain, unmap, remove shared memory), not the runtime's default exit.
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
    void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        // Off the signal thread: what cancellation runs must never throw where nothing catches it.
        ThreadPool.QueueUserWorkItem(_ =>
        {
            try
            {
                stop.Cancel();
            }
            catch (Exception e) when (e is ObjectDisposedException or AggregateException or OperationCanceledException)
            {
            }
        });
    }
    using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    if (!SizeParser.TryParse(parse.GetValue(memory)!, out long memoryBytes))
    {
        Console.Error.WriteLine($"--memory '{parse.GetValue(memory)}' is not a size; use a number with an optional k, m or g suffix, e.g. 256m");
        return 2;
    }
    var options = defaults with
    {
        Name = parse.GetValue(name)!,
        DataDirectory = parse.GetValue(dataDir)!,
        MemoryBytes = memoryBytes,
        Partitions = parse.GetValue(partitions),
    };
    options = options with
    {
        AdminUrls = parse.GetValue(adminUrls)!,
        AdminHosts = parse.GetValue(adminHosts),
        AdminRateLimit = parse.GetValue(adminRateLimit),
        AdminMetricsCache = TimeSpan.FromMilliseconds(parse.GetValue(adminMetricsCache)),
    };
    if (!durability.TryApply(parse, ref options, out string? durabilityError))
    {
        Console.Error.WriteLine(durabilityError);
        return 2;
    }
    RemoteReadPaths.TryParse(parse.GetValue(remoteReads)!, out var readPath); // the option accepts only the three names
    options = options with { Listen = parse.GetValue(listen)!, RemoteReads = readPath };
    if (!cluster.TryApply(parse, parse.GetResult(listen) is { Implicit: false }, parse.GetResult(adminUrls) is { Implicit: false }, ref options, out string? clusterError))
    {
        Console.Error.WriteLine(clusterError);
        return 2;
    }
    if (!RemoteAccess.TryParse(options.Listen, out var listenAt, out string? listenError))
    {
        Console.Error.WriteLine(listenError);
        return 2;
    }
    try
    {
        options.Validate();
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(c =>
    {
        c.SingleLine = true;
        c.TimestampFormat = "HH:mm:ss ";
    });
    builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(15));
    using var host = builder.Build();
    NodeHost node;
    try
    {
        node = await NodeHost.StartAsync(options, new NodeHostOptions
        {
            Listen = listenAt,
            ListenRequired = parse.GetResult(listen) is { Implicit: false } || options.ClusterFile is not null,
            AdminRequired = parse.GetResult(adminUrls) is { Implicit: false } || options.ClusterFile is not null,
        }, host.Services.GetRequiredService<ILoggerFactory>(), cancel);
    }
    catch (NodeStartException e)
    {
        Console.Error.WriteLine(e.Stage == "node" ? $"rdmakv-server: {e.Message}" : $"rdmakv-server: {e.Stage}: {e.Message}");
        return 3;
    }
    await using (node)
    {
        // The host turns Ctrl-C and SIGTERM into a return from RunAsync; disposing the node then
        // drains its connections, unmaps its regions and removes its shared-memory files.
        try
        {
            await host.RunAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // stopped before the host had started: the node still stops cleanly below
        }
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();
