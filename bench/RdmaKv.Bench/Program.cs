using System.CommandLine;
using RdmaKv.Bench;

var root = new RootCommand("rdmakv-bench: YCSB core workloads against RdmaKv, Redis or Garnet");
BenchCommandLine.Configure(root);

var directory = new Argument<DirectoryInfo>("directory") { Description = "a folder of --json result files" };
var compare = new Command("compare", "one table of the result files in a folder: throughput and p50/p99 per store and workload, and RdmaKv's ratio to each peer") { directory };
compare.SetAction(parse => CompareReport.Run(parse.GetValue(directory)!, Console.Out, Console.Error));
root.Subcommands.Add(compare);

return await root.Parse(args).InvokeAsync();
