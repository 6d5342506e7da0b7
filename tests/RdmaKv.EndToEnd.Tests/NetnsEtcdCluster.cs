using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RdmaKv.Client;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A real etcd and three server processes with <c>--etcd</c> (64 slots, two copies of every slot,
/// 2 s leases with a 500 ms margin), node1 in a network namespace of its own behind a veth pair:
/// etcd, node2 and node3 run in this namespace on the host side's address, which node1 reaches
/// (it cannot reach this host's 127.0.0.1). <see cref="Cut"/> partitions node1 with its link's
/// carrier up: a pfifo of limit 0 as the root qdisc of both ends drops every frame they send
/// (with the link down UCX in the namespace finds no device at all, a failed NIC rather than a
/// partition; this kernel has no netem and no tc classifiers). Needs root. While it lives, this
/// process's UCX may use the veth (UCX_NET_DEVICES), so its tests run alone.
/// </summary>
sealed class NetnsEtcdCluster : IDisposable
{
    public const int Isolated = 0;

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-netns-cluster-").FullName;
    readonly string _id = Guid.NewGuid().ToString("N")[..6];
    readonly ServerProcess?[] _servers = new ServerProcess?[3];
    readonly string[] _ucx = new string[3];
    readonly string[] _admin = new string[3];
    readonly string? _ucxDevicesBefore = Environment.GetEnvironmentVariable("UCX_NET_DEVICES");

    readonly VethNamespace _net;

    public NetnsEtcdCluster()
    {
        _net = new VethNamespace("rdmakv-p", 215);
        try
        {
            RdmaKv.Transport.Ucx.UcxEnvironment.Set("UCX_NET_DEVICES", HostSide + ",lo");

            Etcd = new EtcdProcess(host: HostAddress);
            _ucx[0] = $"{NodeAddress}:7400";
            _admin[0] = $"http://{NodeAddress}:7480";
            for (int i = 1; i < 3; i++)
            {
                _ucx[i] = $"{HostAddress}:{ProcessOutput.FreeLoopbackPort()}";
                _admin[i] = $"http://{HostAddress}:{ProcessOutput.FreeLoopbackPort()}";
            }
            string file = Path.Combine(_dir, "cluster.json");
            var entries = Enumerable.Range(0, 3).Select(i => $$"""{ "id": "node{{i + 1}}", "ucx": "{{_ucx[i]}}", "admin": "{{_admin[i]}}" }""");
            File.WriteAllText(file, $$"""{ "epoch": 1, "slots": 64, "replicas": 2, "nodes": [ {{string.Join(", ", entries)}} ] }""");
            var init = Cli.Run("local:unused", "cluster", "init", file, "--etcd", Etcd.Endpoint);
            if (init.ExitCode != 0) throw new InvalidOperationException($"rdmakv cluster init failed: {init}");
            for (int i = 0; i < 3; i++) StartNode(i);
            for (int i = 0; i < 3; i++) Server(i).WaitForOutput("remote clients connect with");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public EtcdProcess Etcd { get; } = null!;

    public TimeSpan LeaseTtl { get; } = TimeSpan.FromSeconds(2);

    public TimeSpan LeaseMargin { get; } = TimeSpan.FromMilliseconds(500);

    public string ClientToken => Path.Combine(_dir, "client-token");

    string HostSide => _net.HostSide;
    string NodeSide => _net.NodeSide;
    string HostAddress => _net.HostAddress;
    string NodeAddress => _net.NodeAddress;

    public string Seeds(params int[] nodes) => "ucx://" + string.Join(",", nodes.Select(i => _ucx[i]));

    public ServerProcess Server(int index) => _servers[index] ?? throw new InvalidOperationException($"node{index + 1} is not running");

    public KvClient Connect(string seeds) =>
        KvClient.Connect(seeds, new KvClientOptions { Credential = File.ReadAllText(ClientToken).Trim(), Timeout = TimeSpan.FromSeconds(2) });

    /// <summary>Drops every frame either end of node1's link sends; the carrier stays up.</summary>
    public void Cut()
    {
        _net.Inside("tc", "qdisc", "add", "dev", NodeSide, "root", "pfifo", "limit", "0");
        VethNamespace.Run("tc", "qdisc", "add", "dev", HostSide, "root", "pfifo", "limit", "0");
    }

    public void Heal()
    {
        VethNamespace.Run("tc", "qdisc", "del", "dev", HostSide, "root");
        _net.Inside("tc", "qdisc", "del", "dev", NodeSide, "root");
    }

    /// <summary>
    /// Runs <c>rdmakv -c ucx://node1 --token-file T ARGS</c> inside node1's namespace, where only
    /// node1 is reachable once the link is cut; a run that outlives the patience is killed and
    /// reported as exit code -1.
    /// </summary>
    public CliResult CliInNamespace(params string[] args)
    {
        using var cli = StartInNamespace(args);
        return cli.Finish(null);
    }

    /// <summary>
    /// Starts <c>rdmakv ... ARGS</c> inside node1's namespace with its standard input open: a
    /// <c>put KEY</c> connects (learns the map, greets the key's owner) and then waits for the value
    /// until <see cref="NamespaceCli.Finish"/> sends it.
    /// </summary>
    public NamespaceCli StartInNamespace(params string[] args) =>
        new(Binaries.Start(Binaries.CliDll, ["-c", Seeds(Isolated), "--token-file", ClientToken, .. args],
            _net.Exec, new Dictionary<string, string> { ["UCX_TLS"] = "tcp", ["UCX_NET_DEVICES"] = NodeSide }));

    /// <summary>How many UCX connections node1 accepted from its own namespace (clients there): one per CLI run that got as far.</summary>
    public int ConnectionsFromNamespace() =>
        Server(Isolated).Output.Split('\n').Count(l => l.Contains($"ucx: {NodeAddress}:", StringComparison.Ordinal) && l.EndsWith(" connected", StringComparison.Ordinal));

    /// <summary>Node <paramref name="index"/>'s owners and replication status from GET /api/cluster; null when it does not answer.</summary>
    public AdminView? View(int index)
    {
        try
        {
            using var doc = JsonDocument.Parse(Http.GetStringAsync(_admin[index] + "/api/cluster").GetAwaiter().GetResult());
            var root = doc.RootElement;
            return new AdminView(root.GetProperty("epoch").GetInt64(), [.. root.GetProperty("owners").EnumerateArray().Select(o => o.GetString()!)],
                root.GetProperty("replication").Clone());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The newest map the nodes <paramref name="asked"/> show; null when none answers.</summary>
    public AdminView? Newest(params int[] asked) =>
        asked.Select(View).OfType<AdminView>().OrderByDescending(v => v.Epoch).FirstOrDefault();

    /// <summary>Polls (every 100 ms, up to 60 s) until <paramref name="done"/> holds; fails with what the nodes printed.</summary>
    public void WaitUntil(Func<bool> done, string what)
    {
        var limit = TimeSpan.FromSeconds(60);
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit) throw new TimeoutException($"{what}: not within {limit}\n{Describe()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>What every node and etcd printed: for a failed test's message.</summary>
    public string Describe() =>
        string.Join("\n", _servers.Select((s, i) => s is null ? "" : $"node{i + 1} printed:\n{s.Output}{s.Errors}").Append($"etcd printed:\n{Etcd?.Output}"));

    void StartNode(int index)
    {
        string[] prefix = index == Isolated ? _net.Exec : [];
        var environment = new Dictionary<string, string> { ["UCX_TLS"] = "tcp", ["UCX_NET_DEVICES"] = index == Isolated ? NodeSide : HostSide };
        _servers[index] = ServerProcess.StartUnder(prefix, environment, $"netns-{_id}-{index + 1}", Path.Combine(_dir, $"node{index + 1}"),
            "--etcd", Etcd.Endpoint, "--node-id", $"node{index + 1}", "--listen", _ucx[index], "--admin-urls", _admin[index],
            "--lease-ttl", LeaseTtl.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--lease-margin", LeaseMargin.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--client-token-file", ClientToken, "--cluster-token-file", Path.Combine(_dir, "cluster-token"),
            "--admin-token-file", Path.Combine(_dir, "admin-token"));
    }

    public void Dispose()
    {
        foreach (var s in _servers) s?.Dispose();
        Etcd?.Dispose();
        RdmaKv.Transport.Ucx.UcxEnvironment.Set("UCX_NET_DEVICES", _ucxDevicesBefore ?? "lo");
        _net.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>A node's view from its admin plane: the map's epoch, each slot's primary, and its replication status.</summary>
sealed record AdminView(long Epoch, string[] Owners, JsonElement Replication)
{
    public bool Serving => Replication.ValueKind == JsonValueKind.Object && Replication.GetProperty("serving").GetBoolean();

    public bool SeesLive(string node) =>
        Replication.ValueKind == JsonValueKind.Object && Replication.GetProperty("liveNodes").EnumerateArray().Any(n => n.GetString() == node);
}

/// <summary>An <c>rdmakv</c> run inside the namespace whose standard input stays open until <see cref="Finish"/>.</summary>
sealed class NamespaceCli(Process process) : IDisposable
{
    readonly Task<string> _stdout = process.StandardOutput.ReadToEndAsync();
    readonly Task<string> _stderr = process.StandardError.ReadToEndAsync();

    /// <summary>Sends <paramref name="input"/> (if any), closes standard input and waits for the run; -1 when it had to be killed.</summary>
    public CliResult Finish(string? input)
    {
        try
        {
            if (input is not null) process.StandardInput.BaseStream.Write(System.Text.Encoding.UTF8.GetBytes(input));
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it exited already (it failed to connect): its exit code says why
        }
        if (!process.WaitForExit(Binaries.Patience))
        {
            Binaries.KillTree(process);
            return new CliResult(-1, [], $"killed after {Binaries.Patience}");
        }
        process.WaitForExit();
        return new CliResult(process.ExitCode, System.Text.Encoding.UTF8.GetBytes(_stdout.Result), _stderr.Result);
    }

    public void Dispose()
    {
        Binaries.KillTree(process);
        process.Dispose();
    }
}
