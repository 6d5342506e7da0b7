using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// <c>rdmakv cluster show</c> against three nodes with two copies of every slot and a real etcd:
/// each node's state, the slots it leads and backs, its lease, whether it serves and its lag,
/// before and after a primary is killed and failed over.
/// </summary>
public sealed partial class ClusterShowTests : IDisposable
{
    readonly EtcdCluster _cluster = new(nodes: 3, replicas: 2);

    CliResult Show(int via) =>
        Cli.Run("local:unused", "cluster", "show", "--admin", _cluster.AdminUrl(via), "--admin-token-file", Path.Combine(_cluster.Root, "admin-token"));

    /// <summary>Runs <c>cluster show</c> through node <paramref name="via"/> until <paramref name="done"/> holds of its output.</summary>
    CliResult ShowUntil(int via, Func<string, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var shown = Show(via);
            if (shown.ExitCode == 0 && done(shown.Text)) return shown;
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"{what}: not within 30 s; last: {shown}\n{_cluster.Describe()}");
            Thread.Sleep(200);
        }
    }

    static Match Row(string text, string id) => RowPattern().Match(text.Split('\n').FirstOrDefault(l => l.StartsWith(id + " ", StringComparison.Ordinal)) ?? "");

    [Fact]
    public void ShowsEachNodesLeadsBacksLeaseAndLagAndAKilledPrimaryDownWithNothingLed()
    {
        var map = _cluster.WaitUntilServing();
        var before = ShowUntil(1, t => ((string[])["node1", "node2", "node3"]).All(id => Row(t, id) is { Success: true } r && r.Groups["state"].Value == "up"), "every node shown up");
        Assert.Contains($"epoch {map.Epoch}, 64 slots, 2 copies each", before.Text, StringComparison.Ordinal);
        foreach (string id in (string[])["node1", "node2", "node3"])
        {
            var row = Row(before.Text, id);
            Assert.Equal(map.Owners.Count(o => o == id), int.Parse(row.Groups["leads"].Value));
            Assert.Equal(Enumerable.Range(0, map.SlotCount).Count(s => map.BackupsOf(s).Contains(id)), int.Parse(row.Groups["backs"].Value));
            Assert.Equal(("live", "yes", "0 (sync)"), (row.Groups["lease"].Value, row.Groups["serving"].Value, row.Groups["lag"].Value));
        }

        _cluster.Kill(0);
        var after = _cluster.WaitForMap(m => !m.Owners.Contains("node1") && Enumerable.Range(0, m.SlotCount).All(s => !m.BackupsOf(s).Contains("node1")), "node1's slots failed over");
        // node2 may take the failed-over map from its watch a moment after the newest node shows it.
        var shown = ShowUntil(1, t => Row(t, "node1") is { Success: true } r && r.Groups["leads"].Value == "0" && r.Groups["lease"].Value == "expired", "node1 shown down with nothing led");
        var node1 = Row(shown.Text, "node1");
        Assert.Equal(("down", "0", "0", "?", "-"), (node1.Groups["state"].Value, node1.Groups["leads"].Value, node1.Groups["backs"].Value, node1.Groups["serving"].Value, node1.Groups["lag"].Value));
        Assert.Contains("node1: its admin plane did not answer", shown.Text, StringComparison.Ordinal);
        int led = 0;
        foreach (string id in (string[])["node2", "node3"])
        {
            var row = Row(shown.Text, id);
            Assert.True(row.Success, shown.Text);
            Assert.Equal(("up", "live", "yes"), (row.Groups["state"].Value, row.Groups["lease"].Value, row.Groups["serving"].Value));
            led += int.Parse(row.Groups["leads"].Value);
        }
        Assert.Equal(64, led);
        Assert.True(Regex.Match(shown.Text, @"^epoch (\d+),", RegexOptions.Multiline) is { Success: true } e && long.Parse(e.Groups[1].Value) >= after.Epoch, shown.Text);
    }

    // ID STATE LEADS "slots" BACKS LEASE SERVING LAG ADMIN-URL, as ClusterShow prints a row.
    [GeneratedRegex(@"^(?<id>\S+)\s+(?<state>up|down|\?)\s+(?<leads>\d+) slots\s+(?<backs>\d+|\?)\s+(?<lease>live|expired|-)\s+(?<serving>yes|no|\?)\s+(?<lag>0 \(sync\)|0 \(primary\)|no copy|-|\?)\s+(?<admin>\S+)")]
    private static partial Regex RowPattern();

    public void Dispose() => _cluster.Dispose();
}
