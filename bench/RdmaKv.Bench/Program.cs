using System.CommandLine;
using RdmaKv.Bench;

var root = new RootCommand("rdmakv-bench: YCSB core workloads against RdmaKv, Redis or Garnet");
BenchCommandLine.Configure(root);

var directory = new Argument<DirectoryInfo>("directory") { Description = "a folder of --json result files" };
var peak = new Option<string[]>("--peak") { Description = "a peer's peak GET rate from another tool, as NAME=OPS; RdmaKv's one-thread workload C is set against the best", AllowMultipleArgumentsPerToken = true };
var compare = new Command("compare", "one table of the result files in a folder: throughput and p50/p99 per store and workload, and RdmaKv's ratio to each peer") { directory, peak };
compare.SetAction(parse => CompareReport.Run(parse.GetValue(directory)!, parse.GetValue(peak) ?? [], Console.Out, Console.Error));
root.Subcommands.Add(compare);

return await root.Parse(args).InvokeAsync();
