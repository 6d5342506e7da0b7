using System.CommandLine;
using System.Text;
using RdmaKv.Cli;

var connect = new Option<string>("--connect", "-c")
{
    Description = "the node: local:NAME, ucx://HOST:PORT, or a cluster's seeds ucx://HOST:PORT,HOST:PORT",
    Recursive = true,
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RDMAKV_CONNECT") ?? "local:default",
};
var key = new Argument<string>("key") { Description = "the key (UTF-8 text)" };
var value = new Argument<string?>("value") { Description = "the value; omit it to read --file or standard input", Arity = ArgumentArity.ZeroOrOne };
var file = new Option<FileInfo?>("--file", "-f") { Description = "read the value from this file" };

var put = new Command("put", "store a value") { key, value, file };
put.SetAction(p => Verbs.Run(p.GetValue(connect)!, client =>
{
    byte[] bytes = p.GetValue(value) is { } text ? Encoding.UTF8.GetBytes(text)
        : p.GetValue(file) is { } f ? File.ReadAllBytes(f.FullName)
        : Verbs.ReadStandardInput();
    client.Put(Encoding.UTF8.GetBytes(p.GetValue(key)!), bytes);
    return 0;
}));

var get = new Command("get", "print a value; exit code 1 when the key is absent") { key };
get.SetAction(p => Verbs.Run(p.GetValue(connect)!, client =>
{
    byte[]? bytes = client.Get(Encoding.UTF8.GetBytes(p.GetValue(key)!));
    if (bytes is null)
    {
        Console.Error.WriteLine("not found");
        return 1;
    }
    Verbs.WriteValue(bytes);
    return 0;
}));

var del = new Command("del", "delete a key; exit code 1 when it was absent") { key };
del.SetAction(p => Verbs.Run(p.GetValue(connect)!, client =>
{
    if (client.Delete(Encoding.UTF8.GetBytes(p.GetValue(key)!))) return 0;
    Console.Error.WriteLine("not found");
    return 1;
}));

var stats = new Command("stats", "print the node's counters");
stats.SetAction(p => Verbs.Run(p.GetValue(connect)!, client =>
{
    foreach (var (name, n) in client.Stats().OrderBy(s => s.Key, StringComparer.Ordinal)) Console.WriteLine($"{name} {n}");
    return 0;
}));

var admin = new Option<string>("--admin")
{
    Description = "the node's admin plane, for checkpoint and cluster",
    Recursive = true,
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RDMAKV_ADMIN") ?? AdminCall.DefaultUrl,
};
var adminTokenFile = new Option<string>("--admin-token-file")
{
    Description = "the admin token (RDMAKV_ADMIN_TOKEN overrides it)",
    Recursive = true,
    DefaultValueFactory = _ => Path.Combine("rdmakv-data", "admin-token"),
};
var checkpoint = new Command("checkpoint", "take a checkpoint of the node's store now and cut its log behind it (through the admin plane)");
checkpoint.SetAction(p => AdminCall.Post(p.GetValue(admin)!, p.GetValue(adminTokenFile)!, "/api/checkpoint"));

// rdmakv bench runs the rdmakv-bench binary with the arguments that follow (its own --help lists them).
if (args.Length > 0 && args[0] == "bench") return BenchLauncher.Run(args[1..]);
var benchArguments = new Argument<string[]>("arguments") { Description = "rdmakv-bench's options (rdmakv bench --help)", Arity = ArgumentArity.ZeroOrMore };
var bench = new Command("bench", $"YCSB core workloads against a node, Redis or Garnet: runs {BenchLauncher.BenchDll} (next to rdmakv.dll or ${BenchLauncher.PathVariable}; see README, Benchmark)") { benchArguments };
bench.TreatUnmatchedTokensAsErrors = false;
bench.SetAction(p => BenchLauncher.Run([.. p.GetValue(benchArguments) ?? [], .. p.UnmatchedTokens]));

var root = new RootCommand("rdmakv: talk to an RdmaKv node") { connect, admin, adminTokenFile, put, get, del, stats, checkpoint, ClusterVerbs.Create(admin, adminTokenFile), bench };
return root.Parse(args).Invoke();
