using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RdmaKv.Server;

var defaults = new StorageNodeOptions();
var name = new Option<string>("--name") { Description = "node name; local clients connect with local:NAME", DefaultValueFactory = _ => defaults.Name };
var dataDir = new Option<string>("--data-dir") { Description = "directory for the node's durable state", DefaultValueFactory = _ => defaults.DataDirectory };
var memory = new Option<string>("--memory") { Description = "memory for all regions, e.g. 256m or 2g", DefaultValueFactory = _ => "256m" };
var partitions = new Option<int>("--partitions") { Description = "partitions on this node", DefaultValueFactory = _ => defaults.Partitions };

var root = new RootCommand("RdmaKv storage node: serves its partitions to local clients through shared memory")
{
    name, dataDir, memory, partitions,
};
var durability = DurabilityCommandLine.AddTo(root);
root.SetAction(async (parse, cancel) =>
{
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
    if (!durability.TryApply(parse, ref options, out string? durabilityError))
    {
        Console.Error.WriteLine(durabilityError);
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
    StorageNode node;
    try
    {
        node = StorageNode.Start(options, host.Services.GetRequiredService<ILogger<StorageNode>>());
    }
    catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or InvalidDataException)
    {
        Console.Error.WriteLine($"rdmakv-server: {e.Message}");
        return 3;
    }
    using (node)
    {
        // The host turns Ctrl-C and SIGTERM into a return from RunAsync; disposing the node then
        // drains its connections, unmaps its regions and removes its shared-memory files.
        await host.RunAsync(cancel);
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();
