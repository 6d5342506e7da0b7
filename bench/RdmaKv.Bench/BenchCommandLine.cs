using System.CommandLine;

namespace RdmaKv.Bench;

/// <summary>The benchmark's options and action: <c>rdmakv-bench</c>'s root command (<c>rdmakv bench</c> runs that binary).</summary>
public static class BenchCommandLine
{
    public static void Configure(Command command)
    {
        var d = new BenchSettings();
        var workload = new Option<string>("--workload", "-w") { Description = "YCSB core workload: A, B, C, D or F (E needs range scans, which a hash store has not)", DefaultValueFactory = _ => d.Workload };
        var target = new Option<string>("--target", "-t") { Description = "embedded (an in-process node), local:NAME, ucx://HOST:PORT or redis://HOST:PORT", DefaultValueFactory = _ => d.Target };
        var records = new Option<long>("--records") { Description = "records the load phase inserts", DefaultValueFactory = _ => d.Records };
        var operations = new Option<long>("--operations") { Description = "operations of the run phase, over all threads", DefaultValueFactory = _ => d.Operations };
        var fieldCount = new Option<int>("--field-count") { Description = "fields per record", DefaultValueFactory = _ => d.FieldCount };
        var fieldLength = new Option<int>("--field-length") { Description = "bytes per field", DefaultValueFactory = _ => d.FieldLength };
        var threads = new Option<int>("--threads") { Description = "client threads, each with its own session", DefaultValueFactory = _ => d.Threads };
        var distribution = new Option<string?>("--distribution") { Description = "request distribution: uniform, zipfian or latest (default: the workload's)" };
        var duration = new Option<double>("--duration") { Description = "seconds after which the run phase stops even if operations remain; 0: no limit", DefaultValueFactory = _ => d.DurationSeconds };
        var seed = new Option<ulong>("--seed") { Description = "seed of the random streams (one per thread)", DefaultValueFactory = _ => d.Seed };
        var phase = new Option<BenchPhase>("--phase") { Description = "both (default), load (insert the records only) or run (the mix, on records loaded before)", DefaultValueFactory = _ => d.Phase };
        var json = new Option<string?>("--json") { Description = "write the settings, the machine and every figure to this JSON file" };
        var label = new Option<string?>("--label") { Description = "the store's name in the reports (default: RdmaKv, Redis or Garnet, as the target says)" };
        foreach (var option in new Option[] { workload, target, records, operations, fieldCount, fieldLength, threads, distribution, duration, seed, phase, json, label })
            command.Options.Add(option);

        command.SetAction((parse, cancel) =>
        {
            var settings = new BenchSettings
            {
                Workload = parse.GetValue(workload)!,
                Target = parse.GetValue(target)!,
                Records = parse.GetValue(records),
                Operations = parse.GetValue(operations),
                FieldCount = parse.GetValue(fieldCount),
                FieldLength = parse.GetValue(fieldLength),
                Threads = parse.GetValue(threads),
                Distribution = parse.GetValue(distribution),
                DurationSeconds = parse.GetValue(duration),
                Seed = parse.GetValue(seed),
                Phase = parse.GetValue(phase),
                JsonPath = parse.GetValue(json),
                Label = parse.GetValue(label),
            };
            return Task.FromResult(Benchmark.Run(settings, TerminalProgress.ForConsole(), Console.Out, Console.Error, cancel));
        });
    }
}
