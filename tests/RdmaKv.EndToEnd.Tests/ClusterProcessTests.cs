using System.Text;
using RdmaKv.Core.Cluster;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Three server processes with one cluster file on loopback, one client token and one admin
/// token; the CLI shows the map, moves a slot and plans a rebalance.
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    readonly ProcessCluster _cluster = new(3, ["node1", "node1", "node1", "node1", "node1", "node1", "node1", "node1", "node2", "node2", "node3", "node3"]);

    string Seeds => _cluster.Seeds(2);

    // The CLI asks node3's admin plane for the map, and the owner's to move.
    CliResult Admin(params string[] args) => _cluster.Admin(2, args);

    [Fact]
    public void TheCliMovesASlotAndPlansARebalanceWhileTheDataStaysReadable()
    {
        using var client = _cluster.Connect(Seeds, TimeSpan.FromSeconds(5));
        var map = _cluster.Map;
        var keys = Enumerable.Range(0, 400).Select(i => Encoding.UTF8.GetBytes($"proc-{i}")).ToList();
        foreach (var k in keys) client.Put(k, k);

        var shown = Admin("cluster", "show");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Contains("epoch 1, 12 slots", shown.Text, StringComparison.Ordinal);

        var plan = Admin("cluster", "rebalance", "--dry-run");
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Equal(4, plan.Text.Split('\n').Count(l => l.StartsWith("would move slot", StringComparison.Ordinal))); // 8/2/2 -> 4/4/4

        // Slot 3 belongs to node1; the CLI asks node3's admin plane for the map and node1's to move it.
        var moved = Admin("cluster", "move", "3", "node2");
        Assert.True(moved.ExitCode == 0, moved.Stderr);
        Assert.Contains("\"epoch\":2", moved.Text, StringComparison.Ordinal);
        Assert.Contains("epoch 2", Admin("cluster", "show").Text, StringComparison.Ordinal);
        Assert.Equal("node2", ClusterMap.Load(Path.Combine(_cluster.DataDirectory(0), "cluster-map.json")).Owners[3]);

        foreach (var k in keys) Assert.Equal(k, client.Get(k));
        Assert.Contains(keys, k => map.SlotOf(k) == 3);

        var again = Admin("cluster", "move", "3", "node2");
        Assert.Equal(2, again.ExitCode); // node2 owns it now: nothing to move, and it says so
        Assert.Contains("already on node node2", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ADeadNodeIsUnreachableInStatsAndDownInShowAndInTheRebalancePlan()
    {
        _cluster.Kill(1); // node2

        var stats = Cli.Run(_cluster.Seeds(0, 2), "stats", "--token-file", _cluster.ClientToken);
        Assert.True(stats.ExitCode == 3, stats.ToString());
        string[] lines = stats.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("node node1 up ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("node node2 unreachable ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("node node3 up ", StringComparison.Ordinal));
        Assert.Contains("slots 12", lines);
        Assert.Contains("nodes_unreachable 1", lines);
        Assert.Contains("node node2", stats.Stderr, StringComparison.Ordinal);

        var shown = Admin("cluster", "show");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Matches(@"(?m)^node1\s+up\s+8 slots", shown.Text);
        Assert.Matches(@"(?m)^node2\s+down\s+2 slots", shown.Text);

        var plan = Admin("cluster", "rebalance", "--dry-run");
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Contains("node node2 down", plan.Text, StringComparison.Ordinal);
        Assert.Contains("node node3 up", plan.Text, StringComparison.Ordinal);

        var refused = Admin("cluster", "rebalance");
        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("node2 is down", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("moving slot", refused.Text, StringComparison.Ordinal);
    }

    public void Dispose() => _cluster.Dispose();
}
