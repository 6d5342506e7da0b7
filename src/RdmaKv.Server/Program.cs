using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RdmaKv.Admin;
using RdmaKv.Server;
using RdmaKv.Server.Resp;
using RdmaKv.Server.Ucx;

var root = new RootCommand("RdmaKv storage node: serves its partitions to local clients through shared memory");
var node = NodeCommandLine.AddTo(root);
var admin = AdminCommandLine.AddTo(root);
var durability = DurabilityCommandLine.AddTo(root);
var remote = RemoteCommandLine.AddTo(root);
var cluster = ClusterCommandLine.AddTo(root);
var resp = RespCommandLine.AddTo(root);
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
    var options = new StorageNodeOptions();
    if (!node.TryApply(parse, ref options, out string? nodeError))
    {
        Console.Error.WriteLine(nodeError);
        return 2;
    }
    options = admin.Apply(parse, options);
    if (!durability.TryApply(parse, ref options, out string? durabilityError))
    {
        Console.Error.WriteLine(durabilityError);
        return 2;
    }
    options = remote.Apply(parse, options);
    if (!cluster.TryApply(parse, remote.Named(parse), admin.Named(parse), ref options, out string? clusterError))
    {
        Console.Error.WriteLine(clusterError);
        return 2;
    }
    if (!RemoteCommandLine.TryParse(options.Listen, out var listenAt, out string? listenError))
    {
        Console.Error.WriteLine(listenError);
        return 2;
    }
    if (!resp.TryGet(parse, out var respAt, out string? respError))
    {
        Console.Error.WriteLine(respError);
        return 2;
    }
    try
    {
        options.Validate();
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine(RdmaKv.Core.ErrorText.Of(e));
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
    NodeHost started;
    try
    {
        started = await NodeHost.StartAsync(options, new NodeHostOptions
        {
            Listen = listenAt,
            ListenRequired = remote.Named(parse) || options.ClusterFile is not null,
            AdminRequired = admin.Named(parse) || options.ClusterFile is not null,
        }, host.Services.GetRequiredService<ILoggerFactory>(), cancel);
    }
    catch (NodeStartException e)
    {
        Console.Error.WriteLine(e.Stage == "node" ? $"rdmakv-server: {e.Message}" : $"rdmakv-server: {e.Stage}: {e.Message}");
        return 3;
    }
    await using (started)
    {
        if (respAt is not null)
        {
            try
            {
                started.Add(n => RespNodeListener.Start(n, respAt, host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RdmaKv.Resp")));
            }
            catch (System.Net.Sockets.SocketException e)
            {
                Console.Error.WriteLine($"rdmakv-server: RESP gateway: --resp {respAt} cannot listen: {e.Message}");
                return 3;
            }
        }
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
