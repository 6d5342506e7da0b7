using System.Diagnostics;
using System.Text.Json;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// deploy/local-cluster.sh runs the three-node cluster on this host, in network namespaces behind
/// a bridge (as root, as CI runs) and on loopback: a client puts and gets keys that every node owns
/// through the seeds, and stop leaves no process, namespace, bridge or shared memory behind. With
/// etcd (the default) every slot has two copies and a killed node's slots fail over; without
/// (RDMAKV_ETCD=0) a down node's slots are unavailable until it returns.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed class LocalClusterLiveTests(PublishedBuild build) : IDisposable
{
    static readonly string[] Namespaces = ["rdmakv-node1", "rdmakv-node2", "rdmakv-node3"];
    const string Bridge = "rdmakv-br0";
    readonly string _state = Path.Combine(Path.GetTempPath(), "rdmakv-local-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    bool _etcd = true;

    Dictionary<string, string?> ScriptEnvironment => new()
    {
        ["RDMAKV_LOCAL_CLUSTER_DIR"] = _state,
        ["RDMAKV_PUBLISH_DIR"] = build.Output,
        ["RDMAKV_START_TIMEOUT"] = "120",
        ["RDMAKV_STOP_TIMEOUT"] = "60",
        ["RDMAKV_ETCD"] = _etcd ? "1" : "0",
    };

    ToolResult Script(string command, params string[] args) =>
        Tool.Run("bash", [Repository.LocalClusterScript, command, .. args], environment: ScriptEnvironment, timeout: TimeSpan.FromMinutes(4));

    [Theory]
    [InlineData(false)]
    // On loopback (--loopback, no root) the same start, use and stop run in the restart test, and
    // etcd's loopback status line in the etcd test: this one runs in namespaces only, to keep CI short.
    public void ThreeNodesServeKeysOfEveryOwnerAndStopLeavesNothingBehind(bool loopback)
    {
        Assert.True(loopback || Environment.UserName == "root", "the namespace cluster needs root (CI runs as root)");
        var help = Tool.Run(Tool.Dotnet, [build.Dll("rdmakv-server.dll"), "--help"], build.Output).Succeeded();
        Assert.True(help.Output.Contains("--cluster", StringComparison.Ordinal) && help.Output.Contains("--client-token-file", StringComparison.Ordinal),
            $"rdmakv-server has no --cluster or --client-token-file yet:\n{help.Output}");

        var topology = Topology.FromScript(loopback);
        var started = Script("start", loopback ? ["--loopback"] : []);
        Assert.True(started.ExitCode == 0, started.Describe());
        Assert.Contains($"seeds: {Topology.Seeds(topology)}", started.Output);
        Assert.Contains($"token file: {_state}/client-token", started.Output);

        var status = Script("status").Succeeded();
        var pids = new Dictionary<string, int>();
        foreach (var node in topology)
        {
            string line = Assert.Single(status.Output.Split('\n'), l => l.StartsWith(node.Id + " ", StringComparison.Ordinal));
            string[] words = line.Split(' ');
            Assert.True(words[1] == "pid", $"status says '{line}'");
            pids[node.Id] = int.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains($"ucx://{node.Ucx}", line);
        }
        string etcd = Assert.Single(status.Output.Split('\n'), l => l.StartsWith("etcd ", StringComparison.Ordinal));
        Assert.Matches(loopback ? @"^etcd pid \d+ http://127\.0\.0\.1:23790 healthy$" : @"^etcd pid \d+ http://10\.90\.0\.1:2379 healthy$", etcd);
        if (!loopback)
        {
            // Each node runs inside its own namespace, not in this one.
            for (int i = 0; i < Namespaces.Length; i++)
                Assert.Contains(pids[topology[i].Id].ToString(System.Globalization.CultureInfo.InvariantCulture), Tool.Run("ip", "netns", "pids", Namespaces[i]).Succeeded().Output.Split('\n'));
        }

        UseTheCluster(topology, loopback);

        var stopped = Script("stop");
        Assert.True(stopped.ExitCode == 0, stopped.Describe());
        Assert.DoesNotContain("SIGKILL", stopped.Output);
        AssertNothingIsLeft();
        // Stop is idempotent: a second one finds nothing and succeeds.
        Script("stop").Succeeded();
        Assert.Equal(1, Script("status").ExitCode);
    }

    /// <summary>Runs the published rdmakv against <paramref name="seeds"/> with the cluster's client token, as a client on this host does.</summary>
    ToolResult Cli(bool loopback, string seeds, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["RDMAKV_TOKEN"] = File.ReadAllText(Path.Combine(_state, "client-token")).Trim(),
            ["RDMAKV_TOKEN_FILE"] = null,
            ["RDMAKV_CONNECT"] = null,
            ["UCX_TLS"] = "tcp",
            // The client is in this namespace: it reaches the nodes through the bridge.
            ["UCX_NET_DEVICES"] = loopback ? "lo" : Bridge,
        };
        return Tool.Run(Tool.Dotnet, [build.Dll("rdmakv.dll"), "--connect", seeds, .. args], build.Output, environment, TimeSpan.FromMinutes(1));
    }

    /// <summary>The pid status prints for <paramref name="id"/>, or null when it says the node is stopped.</summary>
    int? StatusPid(string id)
    {
        string line = Assert.Single(Script("status").Output.Split('\n'), l => l.StartsWith(id + " ", StringComparison.Ordinal));
        string[] words = line.Split(' ');
        return words[1] == "pid" ? int.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WithoutEtcdOneNodeRestartsIsKilledAndStartsAgainWithItsDataAndInNamespacesIsIsolatedAndHealed(bool loopback)
    {
        // One copy of every slot: while node2 is down its keys are unavailable, which this checks.
        _etcd = false;
        Assert.True(loopback || Environment.UserName == "root", "the namespace cluster needs root (CI runs as root)");
        var topology = Topology.FromScript(loopback);
        var started = Script("start", loopback ? ["--loopback"] : []);
        Assert.True(started.ExitCode == 0, started.Describe());
        var map = ClusterMap.Load(Path.Combine(_state, "cluster.json"));
        string seeds = Topology.Seeds(topology);
        var node2 = topology[1];
        string[] keys = [.. Enumerable.Range(0, 10_000).Select(i => $"restart-key-{i}")
            .Where(k => map.OwnerOf(System.Text.Encoding.UTF8.GetBytes(k)).Id == node2.Id).Take(3)];
        foreach (string key in keys) Assert.True(Cli(loopback, seeds, "put", key, "v-" + key).ExitCode == 0);
        void AllThere(string after)
        {
            foreach (string key in keys)
            {
                var got = Cli(loopback, seeds, "get", key);
                Assert.True(got.ExitCode == 0 && got.Output.TrimEnd('\n') == "v-" + key, $"{key} after {after}: {got.Describe()}");
            }
        }

        int before = StatusPid(node2.Id) ?? throw new InvalidOperationException("node2 is not running after start");
        var restarted = Script("restart-node", "2");
        Assert.True(restarted.ExitCode == 0, restarted.Describe());
        Assert.Contains($"node2 ({before}) stopped", restarted.Output);
        int after = StatusPid(node2.Id) ?? throw new InvalidOperationException("node2 is not running after restart-node");
        Assert.NotEqual(before, after);
        Assert.False(Directory.Exists($"/proc/{before}"), "the old node2 is still there");
        Assert.NotNull(StatusPid(topology[0].Id));
        AllThere("restart-node");

        var killed = Script("kill-node", "node2");
        Assert.True(killed.ExitCode == 0, killed.Describe());
        Assert.False(Directory.Exists($"/proc/{after}"), "node2 outlived kill-node");
        Assert.Null(StatusPid(node2.Id));
        Assert.Equal(1, Script("status").ExitCode);
        Assert.Equal(3, Cli(loopback, seeds, "get", keys[0]).ExitCode); // its slots are unavailable, and the CLI says so
        Assert.True(Script("start-node", "2").ExitCode == 0);
        AllThere("kill-node and start-node");

        if (!loopback)
        {
            Script("isolate", "2").Succeeded();
            Assert.Equal(3, Cli(loopback, seeds, "get", keys[0]).ExitCode);
            Assert.NotNull(StatusPid(node2.Id)); // cut off, not stopped
            Script("heal", "2").Succeeded();
            AllThere("isolate and heal");
        }
        else
        {
            Assert.NotEqual(0, Script("isolate", "2").ExitCode); // no link to cut on loopback, and it says so
        }

        Assert.True(Script("stop").ExitCode == 0);
        AssertNothingIsLeft();
    }

    [Fact]
    public void WithEtcdEverySlotHasTwoCopiesAKilledNodesSlotsFailOverAndItRejoins()
    {
        var topology = Topology.FromScript(loopback: true);
        var started = Script("start", "--loopback");
        Assert.True(started.ExitCode == 0, started.Describe());
        Assert.Matches(@"(?m)^etcd pid \d+ http://127\.0\.0\.1:23790 healthy$", started.Output);
        string node2Admin = topology[1].Admin!;

        // The map etcd holds, as a node hands it out: R = 2, and every slot has a backup that is not its owner.
        using (var cluster = ClusterView(node2Admin))
        {
            var root = cluster.RootElement;
            Assert.Equal(2, root.GetProperty("replicas").GetInt32());
            string[] owners = [.. root.GetProperty("owners").EnumerateArray().Select(o => o.GetString()!)];
            var backups = root.GetProperty("backups").EnumerateArray().Select(b => b.EnumerateArray().Select(n => n.GetString()!).ToArray()).ToArray();
            Assert.Equal(256, owners.Length);
            Assert.Equal(256, backups.Length);
            for (int slot = 0; slot < owners.Length; slot++)
                Assert.True(backups[slot].Length == 1 && backups[slot][0] != owners[slot], $"slot {slot}: owner {owners[slot]}, backups [{string.Join(",", backups[slot])}]");
            Assert.Contains("node1", owners);
        }

        // Keys node1 leads: after it dies they are read from the backups the controller promoted.
        var seeded = ClusterMap.Load(Path.Combine(_state, "cluster.json"));
        string seeds = Topology.Seeds(topology);
        string[] keys = [.. Enumerable.Range(0, 10_000).Select(i => $"failover-key-{i}")
            .Where(k => seeded.OwnerOf(System.Text.Encoding.UTF8.GetBytes(k)).Id == "node1").Take(2)];
        foreach (string key in keys)
        {
            var put = Cli(loopback: true, seeds, "put", key, "v-" + key);
            Assert.True(put.ExitCode == 0, put.Describe());
        }

        var killed = Script("kill-node", "1");
        Assert.True(killed.ExitCode == 0, killed.Describe());
        WaitForCluster(node2Admin, root => !root.GetProperty("owners").EnumerateArray().Any(o => o.GetString() == "node1"),
            "the map's owners no longer name node1");
        foreach (string key in keys)
        {
            var got = Cli(loopback: true, seeds, "get", key);
            Assert.True(got.ExitCode == 0 && got.Output.TrimEnd('\n') == "v-" + key, $"{key} after node1's failover: {got.Describe()}");
        }

        // start-node returns once node1 serves; the others see it as a live member again.
        var rejoined = Script("start-node", "1");
        Assert.True(rejoined.ExitCode == 0, rejoined.Describe());
        WaitForCluster(node2Admin, root => root.GetProperty("nodes").EnumerateArray()
            .Any(n => n.GetProperty("id").GetString() == "node1" && n.GetProperty("up").ValueKind == JsonValueKind.True), "node2 sees node1 up");
        Assert.Equal(0, Script("status").ExitCode);

        Assert.True(Script("stop").ExitCode == 0);
        AssertNothingIsLeft();
    }

    /// <summary>GET /api/cluster on the admin plane at <paramref name="admin"/> (it needs no token).</summary>
    static JsonDocument ClusterView(string admin) => JsonDocument.Parse(Http.GetStringAsync(admin + "/api/cluster").GetAwaiter().GetResult());

    /// <summary>Polls /api/cluster at <paramref name="admin"/> until <paramref name="done"/> holds; fails after 60 s with the last view.</summary>
    static void WaitForCluster(string admin, Func<JsonElement, bool> done, string what)
    {
        var limit = TimeSpan.FromSeconds(60);
        var waited = Stopwatch.StartNew();
        string last = "no answer";
        while (true)
        {
            try
            {
                using var view = ClusterView(admin);
                last = view.RootElement.GetRawText();
                if (done(view.RootElement)) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            Assert.True(waited.Elapsed < limit, $"{what}: not within {limit}; last view of {admin}/api/cluster: {last}");
            Thread.Sleep(200);
        }
    }

    void UseTheCluster(IReadOnlyList<ClusterNode> topology, bool loopback)
    {
        var map = ClusterMap.Load(Path.Combine(_state, "cluster.json"));
        Assert.Equal(topology, map.Nodes);
        ToolResult Cli(string seeds, params string[] args) => this.Cli(loopback, seeds, args);

        // Two keys owned by each node, so every node serves puts and gets.
        var keys = new List<(string Key, ClusterNode Owner)>();
        for (int i = 0; keys.Count < 2 * topology.Count; i++)
        {
            string key = $"deploy-key-{i}";
            var owner = map.OwnerOf(System.Text.Encoding.UTF8.GetBytes(key));
            if (keys.Count(k => k.Owner == owner) < 2) keys.Add((key, owner));
            Assert.True(i < 10_000, "no keys found for every node");
        }

        string seeds = Topology.Seeds(topology);
        foreach (var (key, _) in keys)
        {
            var put = Cli(seeds, "put", key, "value of " + key);
            Assert.True(put.ExitCode == 0, put.Describe());
        }
        foreach (var (key, owner) in keys)
        {
            // Through all seeds, and through one node that does not own the key: it hands out the map.
            var other = topology.First(n => n != owner);
            foreach (string via in new[] { seeds, $"ucx://{other.Ucx}" })
            {
                var got = Cli(via, "get", key);
                Assert.True(got.ExitCode == 0 && got.Output.TrimEnd('\n') == "value of " + key, $"get {key} (owner {owner.Id}) via {via}: {got.Describe()}");
            }
        }
        Assert.Equal(1, Cli(seeds, "get", "deploy-key-never-put").ExitCode);
    }

    void AssertNothingIsLeft()
    {
        var processes = ProcessesMentioning(_state);
        Assert.True(processes.Count == 0, $"processes of the cluster are left: {string.Join("; ", processes)}");
        string namespaces = Tool.Run("ip", "netns", "list").Succeeded().Output;
        foreach (string ns in Namespaces)
            Assert.DoesNotContain(ns, namespaces.Split('\n').Select(l => l.Split(' ')[0]));
        Assert.NotEqual(0, Tool.Run("ip", "link", "show", Bridge).ExitCode);
        Assert.DoesNotContain(Tool.Run("ip", "-o", "link", "show").Succeeded().Output.Split('\n'), l => l.Contains("rdmakv-node", StringComparison.Ordinal));
        foreach (string node in new[] { "node1", "node2", "node3" })
            Assert.False(Directory.Exists($"/dev/shm/rdmakv-{node}"), $"/dev/shm/rdmakv-{node} is left");
    }

    static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            string name = Path.GetFileName(dir);
            if (!int.TryParse(name, out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                string command = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (command.Contains(text, StringComparison.Ordinal)) found.Add($"{pid}: {command}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended while we looked
            }
        }
        return found;
    }

    public void Dispose()
    {
        // A test that failed half way still leaves nothing running; stop is bounded and idempotent.
        try
        {
            Tool.Run("bash", [Repository.LocalClusterScript, "stop"], environment: ScriptEnvironment, timeout: TimeSpan.FromMinutes(3));
        }
        catch (Exception)
        {
            // the test's own failure says what went wrong
        }
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
