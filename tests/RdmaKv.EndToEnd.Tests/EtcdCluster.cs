using System.Diagnostics;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A real etcd and server processes node1..nodeN on loopback with <c>--etcd</c>: the map (64 slots,
/// <c>replicas</c> copies, 2 s leases with a 500 ms margin by default) is seeded with <c>rdmakv cluster init</c>; nodes can be killed and
/// started again on their ports and data; the map is read from etcd through a node's clients.
/// </summary>
sealed class EtcdCluster : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-etcd-cluster-").FullName;
    readonly ServerProcess?[] _servers;
    readonly string[] _names;
    readonly int[] _ucx;
    readonly int[] _admin;
    readonly string[] _extra;
    readonly List<string> _gone = [];
    readonly string _memory;

    public EtcdCluster(int nodes = 3, int replicas = 2, TimeSpan? leaseTtl = null, params string[] extra)
        : this("64m", nodes, replicas, leaseTtl, extra)
    {
    }

    /// <summary>Nodes of <paramref name="memory"/> each (--memory, in 2 partitions), e.g. "1g" for a benchmark's large slot.</summary>
    public static EtcdCluster WithMemory(string memory, int nodes, int replicas, params string[] extra) => new(memory, nodes, replicas, null, extra);

    EtcdCluster(string memory, int nodes, int replicas, TimeSpan? leaseTtl, string[] extra)
    {
        _memory = memory;
        LeaseTtl = leaseTtl ?? TimeSpan.FromSeconds(2); // the default: 1 s leaves too little room for a loaded 2-core machine's stalls
        _servers = new ServerProcess?[nodes];
        _names = [.. Enumerable.Range(0, nodes).Select(_ => "etcdc-" + Guid.NewGuid().ToString("N")[..12])];
        _ucx = [.. _names.Select(_ => ProcessOutput.FreeLoopbackPort())];
        _admin = [.. _names.Select(_ => ProcessOutput.FreeLoopbackPort())];
        _extra = extra;
        try
        {
            Etcd = new EtcdProcess();
            string file = Path.Combine(_dir, "cluster.json");
            var entries = Enumerable.Range(0, nodes).Select(i =>
                $$"""{ "id": "node{{i + 1}}", "ucx": "127.0.0.1:{{_ucx[i]}}", "admin": "http://127.0.0.1:{{_admin[i]}}" }""");
            File.WriteAllText(file, $$"""{ "epoch": 1, "slots": 64, "replicas": {{replicas}}, "nodes": [ {{string.Join(", ", entries)}} ] }""");
            var init = Cli.Run("local:unused", "cluster", "init", file, "--etcd", Etcd.Endpoint);
            if (init.ExitCode != 0) throw new InvalidOperationException($"rdmakv cluster init failed: {init}");
            for (int i = 0; i < nodes; i++) StartNode(i);
            for (int i = 0; i < nodes; i++) Server(i).WaitForOutput("remote clients connect with");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public EtcdProcess Etcd { get; } = null!;

    /// <summary>The directory that holds the cluster file, the tokens and every node's data.</summary>
    public string Root => _dir;

    public TimeSpan LeaseTtl { get; }

    public string ClientToken => Path.Combine(_dir, "client-token");

    public string Seeds(params int[] nodes) => "ucx://" + string.Join(",", nodes.Select(i => $"127.0.0.1:{_ucx[i]}"));

    /// <summary>Node <paramref name="index"/>'s shared-memory address (a client on this host reads its regions directly).</summary>
    public string LocalSeed(int index) => "local:" + _names[index];

    public string AdminUrl(int index) => $"http://127.0.0.1:{_admin[index]}";

    /// <summary>Every node's UCX address, as client seeds.</summary>
    public string AllSeeds => Seeds([.. Enumerable.Range(0, _servers.Length)]);

    /// <summary>Runs <c>rdmakv ARGS</c> against node <paramref name="via"/>'s admin plane with the cluster's admin token.</summary>
    public CliResult Admin(int via, params string[] args) =>
        Cli.Run(Seeds(via), [.. args, "--admin", AdminUrl(via), "--admin-token-file", Path.Combine(_dir, "admin-token")]);

    public ServerProcess Server(int index) => _servers[index] ?? throw new InvalidOperationException($"node{index + 1} is not running");

    public bool IsRunning(int index) => _servers[index] is not null;

    /// <summary>The node processes running now.</summary>
    public IEnumerable<ServerProcess> Running => _servers.OfType<ServerProcess>();

    /// <summary>Waits until every running node serves (the controller took its run in and its leases hold); returns the map.</summary>
    public ClusterMap WaitUntilServing(TimeSpan? patience = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = patience ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                bool all = true;
                for (int i = 0; i < _servers.Length; i++)
                    if (_servers[i] is not null) all &= Status(i).Replication.GetProperty("serving").GetBoolean();
                if (all) return Map();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or KeyNotFoundException)
            {
                // not answering yet
            }
            if (deadline.Elapsed > limit) throw new TimeoutException($"the nodes did not all serve within {limit}\n{Describe()}");
            Thread.Sleep(100);
        }
    }

    public KvClient Connect(string seeds, TimeSpan? timeout = null) =>
        KvClient.Connect(seeds, new KvClientOptions { Credential = File.ReadAllText(ClientToken).Trim(), Timeout = timeout ?? TimeSpan.FromSeconds(2) });

    /// <summary>The newest map any running node's admin plane shows (GET /api/cluster).</summary>
    public ClusterMap Map()
    {
        ClusterMap? newest = null;
        for (int i = 0; i < _servers.Length; i++)
        {
            if (_servers[i] is null) continue;
            try
            {
                var map = MapOf(i);
                if (newest is null || map.Epoch > newest.Epoch) newest = map;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or KeyNotFoundException)
            {
                // a node that does not answer yet is asked no further
            }
        }
        return newest ?? throw new InvalidOperationException("no running node showed a map");
    }

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Node <paramref name="index"/>'s map and replication status, from its admin plane.</summary>
    public (ClusterMap Map, System.Text.Json.JsonElement Replication) Status(int index)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(Http.GetStringAsync(AdminUrl(index) + "/api/cluster").GetAwaiter().GetResult());
        var root = doc.RootElement;
        var file = new System.Text.Json.Nodes.JsonObject
        {
            ["epoch"] = root.GetProperty("epoch").GetInt64(),
            ["slots"] = root.GetProperty("slotCount").GetInt32(),
            ["replicas"] = root.GetProperty("replicas").GetInt32(),
            ["nodes"] = new System.Text.Json.Nodes.JsonArray([.. root.GetProperty("nodes").EnumerateArray().Select(n => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["id"] = n.GetProperty("id").GetString(),
                ["ucx"] = n.GetProperty("ucx").GetString(),
                ["admin"] = n.GetProperty("admin").GetString(),
            })]),
            ["owners"] = System.Text.Json.Nodes.JsonNode.Parse(root.GetProperty("owners").GetRawText()),
        };
        if (root.GetProperty("backups").ValueKind == System.Text.Json.JsonValueKind.Array)
            file["backups"] = System.Text.Json.Nodes.JsonNode.Parse(root.GetProperty("backups").GetRawText());
        return (ClusterMap.Parse(file.ToJsonString()), root.GetProperty("replication").Clone());
    }

    ClusterMap MapOf(int index) => Status(index).Map;

    /// <summary>Waits (generously) until the map the nodes hand out satisfies <paramref name="done"/>; returns it.</summary>
    public ClusterMap WaitForMap(Func<ClusterMap, bool> done, string what, TimeSpan? patience = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = patience ?? TimeSpan.FromSeconds(60);
        ClusterMap? last = null;
        while (true)
        {
            try
            {
                last = Map();
                if (done(last)) return last;
            }
            catch (InvalidOperationException)
            {
                // no node answers right now
            }
            if (deadline.Elapsed > limit)
                throw new TimeoutException($"{what}: not within {limit}; last map: {last?.ToJson() ?? "none"}\n{Describe()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGKILL of node <paramref name="index"/>; its data directory stays.</summary>
    public void Kill(int index)
    {
        var server = Server(index);
        server.Signal(Binaries.SigKill);
        server.WaitForExit();
        _gone.Add($"node{index + 1} (killed) printed:\n{server.Output}{server.Errors}");
        server.Dispose();
        _servers[index] = null;
    }

    /// <summary>Starts node <paramref name="index"/> again on its ports and data directory; returns once it listens.</summary>
    public void Restart(int index)
    {
        if (_servers[index] is not null) throw new InvalidOperationException($"node{index + 1} is still running");
        StartNode(index);
        Server(index).WaitForOutput("remote clients connect with");
    }

    public string DataDirectory(int index) => Path.Combine(_dir, $"node{index + 1}");

    void StartNode(int index) =>
        _servers[index] = ServerProcess.StartSized(_names[index], DataDirectory(index), _memory, [
            "--etcd", Etcd.Endpoint, "--node-id", $"node{index + 1}",
            "--listen", $"127.0.0.1:{_ucx[index]}", "--admin-urls", AdminUrl(index),
            "--lease-ttl", LeaseTtl.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lease-margin", (LeaseTtl.TotalMilliseconds / 4).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--client-token-file", ClientToken, "--cluster-token-file", Path.Combine(_dir, "cluster-token"),
            "--admin-token-file", Path.Combine(_dir, "admin-token"), .. _extra]);

    /// <summary>What every node and etcd printed, the killed nodes included: for a failed test's message.</summary>
    public string Describe() =>
        string.Join("\n", _gone.Concat(_servers.Select((s, i) => s is null ? "" : $"node{i + 1} printed:\n{s.Output}{s.Errors}")).Append($"etcd printed:\n{Etcd?.Output}"));

    public void Dispose()
    {
        foreach (var s in _servers) s?.Dispose();
        Etcd?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
