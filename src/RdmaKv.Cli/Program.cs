using System.CommandLine;
using System.Text;
using RdmaKv.Cli;

var connect = new Option<string>("--connect", "-c")
{
    Description = "the node: local:NAME, ucx://HOST:PORT, or a cluster's seeds ucx://HOST:PORT,HOST:PORT",
    Recursive = true,
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RDMAKV_CONNECT") ?? "local:default",
};
var tokenFile = new Option<string?>("--token-file")
{
    Description = "the node's client token (its DATA_DIR/client-token), for ucx:// and cluster nodes; else RDMAKV_TOKEN, then the file RDMAKV_TOKEN_FILE names",
    Recursive = true,
};
var key = new Argument<string>("key") { Description = "the key (UTF-8 text)" };
var value = new Argument<string?>("value") { Description = "the value; omit it to read --file or standard input", Arity = ArgumentArity.ZeroOrOne };
var file = new Option<FileInfo?>("--file", "-f") { Description = "read the value from this file" };
var ttl = new Option<string?>("--ttl") { Description = "the value expires this long from now: 500ms, 30s, 5m, 2h, 1d (a bare number is seconds)" };
ttl.Validators.Add(r =>
{
    if (r.GetValueOrDefault<string?>() is { } t && !(RdmaKv.Core.Durations.TryParse(t, out var d) && d > TimeSpan.Zero))
        r.AddError($"--ttl '{t}' is not a positive duration such as 500ms, 30s, 5m, 2h or 1d");
});

var put = new Command("put", "store a value; with --ttl it expires (then reads as absent)") { key, value, file, ttl };
put.SetAction(p => Verbs.Run(p.GetValue(connect)!, p.GetValue(tokenFile), client =>
{
    byte[] bytes = p.GetValue(value) is { } text ? Encoding.UTF8.GetBytes(text)
        : p.GetValue(file) is { } f ? File.ReadAllBytes(f.FullName)
        : Verbs.ReadStandardInput();
    if (p.GetValue(ttl) is { } t && RdmaKv.Core.Durations.TryParse(t, out var life))
        client.Put(Encoding.UTF8.GetBytes(p.GetValue(key)!), bytes, DateTimeOffset.UtcNow + life);
    else
        client.Put(Encoding.UTF8.GetBytes(p.GetValue(key)!), bytes);
    return 0;
}));

var ttlVerb = new Command("ttl", "print how long a key has left, in seconds (3 decimals), and when it expires (UTC); \"never\" for a key that does not expire; exit code 1 when the key is absent") { key };
ttlVerb.SetAction(p => Verbs.Run(p.GetValue(connect)!, p.GetValue(tokenFile), client =>
{
    if (!client.TryGetExpiry(Encoding.UTF8.GetBytes(p.GetValue(key)!), out var at))
    {
        Console.Error.WriteLine("not found");
        return 1;
    }
    Console.WriteLine(at is { } when
        ? $"{Math.Max(0, (when - DateTimeOffset.UtcNow).TotalSeconds).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)} {when.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}"
        : "never");
    return 0;
}));

var get = new Command("get", "print a value; exit code 1 when the key is absent") { key };
get.SetAction(p => Verbs.Run(p.GetValue(connect)!, p.GetValue(tokenFile), client =>
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
del.SetAction(p => Verbs.Run(p.GetValue(connect)!, p.GetValue(tokenFile), client =>
{
    if (client.Delete(Encoding.UTF8.GetBytes(p.GetValue(key)!))) return 0;
    Console.Error.WriteLine("not found");
    return 1;
}));

var stats = new Command("stats", "print the node's counters, one \"name value\" a line; for a cluster first each node, up or unreachable, and the slot count, then the counters of the nodes that answered, added up (exit code 3 when a node did not answer)");
stats.SetAction(p => Verbs.Run(p.GetValue(connect)!, p.GetValue(tokenFile), StatsVerb.Print));

var admin = new Option<string>("--admin")
{
    Description = "the node's admin plane, for checkpoint and cluster (RDMAKV_ADMIN)",
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

var root = new RootCommand("""
    rdmakv: talk to an RdmaKv node.

    Exit codes: 0 done, 1 not found, 2 the request failed (the message says why), 3 no node (or admin plane) to talk to, or in a cluster a node that did not answer, 64 usage error.

    Environment:
      RDMAKV_CONNECT      the node, when --connect is not given (default local:default)
      RDMAKV_TOKEN        the client token for ucx:// and cluster nodes (--token-file wins)
      RDMAKV_TOKEN_FILE   a file holding the client token (the node's DATA_DIR/client-token)
      RDMAKV_ADMIN        the admin plane's URL, when --admin is not given
      RDMAKV_ADMIN_TOKEN  the admin token (wins over --admin-token-file)
      RDMAKV_BENCH        the rdmakv-bench.dll that rdmakv bench runs
      UCX_TLS, UCX_NET_DEVICES  UCX's transports and devices (tcp on lo: UCX_TLS=tcp UCX_NET_DEVICES=lo)
    """) { connect, tokenFile, admin, adminTokenFile, put, get, del, ttlVerb, stats, checkpoint, ClusterVerbs.Create(admin, adminTokenFile), bench };
var parsed = root.Parse(args);
return parsed.Errors.Count > 0 ? ExitCode.UsageErrors(parsed) : parsed.Invoke();
