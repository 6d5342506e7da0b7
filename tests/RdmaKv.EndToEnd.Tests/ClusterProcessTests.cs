using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Three server processes with one cluster file on loopback, one client token and one admin
/// token; the CLI shows the map, moves a partition and plans a rebalance.
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    readonly string _dir = TestNode.NewDataDirectory();
    readonly List<ServerProcess> _servers = [];
    readonly string _file;
    int[] _admin = [];
    int[] _ucx = [];

    public ClusterProcessTests()
    {
        _file = Path.Combine(_dir, "cluster.json");
        // A port that was free when chosen can be taken before the node binds it (another test's
        // connection gets it as its own ephemeral port): then all three start again on new ports.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Start();
                return;
            }
            catch (Exception e) when (attempt < 3 && (e.Message.Contains("cannot listen", StringComparison.Ordinal) || e.Message.Contains("already in use", StringComparison.OrdinalIgnoreCase)))
            {
                StopAll();
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    void Start()
    {
        _ucx = [.. Enumerable.Range(0, 3).Select(_ => ProcessOutput.FreeLoopbackPort())];
        _admin = [.. Enumerable.Range(0, 3).Select(_ => ProcessOutput.FreeLoopbackPort())];
        File.WriteAllText(_file, $$"""
            { "epoch": 1, "partitions": 12, "nodes": [
              { "id": "node1", "ucx": "127.0.0.1:{{_ucx[0]}}", "admin": "http://127.0.0.1:{{_admin[0]}}" },
              { "id": "node2", "ucx": "127.0.0.1:{{_ucx[1]}}", "admin": "http://127.0.0.1:{{_admin[1]}}" },
              { "id": "node3", "ucx": "127.0.0.1:{{_ucx[2]}}", "admin": "http://127.0.0.1:{{_admin[2]}}" } ],
              "owners": ["node1","node1","node1","node1","node1","node1","node1","node1","node2","node2","node3","node3"] }
            """);
        for (int i = 0; i < 3; i++)
        {
            string data = Path.Combine(_dir, $"node{i + 1}");
            _servers.Add(ServerProcess.Start(TestNode.UniqueName(), data, "--cluster", _file, "--node-id", $"node{i + 1}",
                "--client-token-file", ClientToken, "--admin-token-file", AdminToken));
        }
        foreach (var s in _servers) s.WaitForOutput("remote clients connect with");
    }

    string ClientToken => Path.Combine(_dir, "client-token");
    string AdminToken => Path.Combine(_dir, "admin-token");
    string Seeds => $"ucx://127.0.0.1:{_ucx[2]}";

    CliResult Admin(params string[] args) => Cli.Run(Seeds, [.. args, "--admin", $"http://127.0.0.1:{_admin[2]}", "--admin-token-file", AdminToken]);

    [Fact]
    public void TheCliMovesAPartitionAndPlansARebalanceWhileTheDataStaysReadable()
    {
        using var client = KvClient.Connect(Seeds, new KvClientOptions { Credential = File.ReadAllText(ClientToken).Trim() });
        var map = ClusterMap.Load(_file);
        var keys = Enumerable.Range(0, 400).Select(i => Encoding.UTF8.GetBytes($"proc-{i}")).ToList();
        foreach (var k in keys) client.Put(k, k);

        var shown = Admin("cluster", "show");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Contains("epoch 1, 12 partitions", shown.Text, StringComparison.Ordinal);

        var plan = Admin("cluster", "rebalance", "--dry-run");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Equal(4, plan.Text.Split('\n').Count(l => l.StartsWith("would move partition", StringComparison.Ordinal))); // 8/2/2 -> 4/4/4

        // Partition 3 belongs to node1; the CLI asks node3's admin plane for the map and node1's to move it.
        var moved = Admin("cluster", "move", "3", "node2");
        Assert.True(moved.ExitCode == 0, moved.Stderr);
        Assert.Contains("\"epoch\":2", moved.Text, StringComparison.Ordinal);
        Assert.Contains("epoch 2", Admin("cluster", "show").Text, StringComparison.Ordinal);
        Assert.Equal("node2", ClusterMap.Load(Path.Combine(_dir, "node1", "cluster-map.json")).Owners[3]);

        foreach (var k in keys) Assert.Equal(k, client.Get(k));
        Assert.Contains(keys, k => map.PartitionOf(k) == 3);

        var again = Admin("cluster", "move", "3", "node2");
        Assert.Equal(2, again.ExitCode); // node2 owns it now: nothing to move, and it says so
        Assert.Contains("already on node node2", again.Stderr, StringComparison.Ordinal);
    }

    void StopAll()
    {
        foreach (var s in _servers) s.Dispose();
        _servers.Clear();
        for (int i = 1; i <= 3; i++)
        {
            string data = Path.Combine(_dir, $"node{i}");
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    public void Dispose()
    {
        StopAll();
        Directory.Delete(_dir, recursive: true);
    }
}
