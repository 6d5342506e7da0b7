using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using RdmaKv.EndToEnd.Tests;
using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// Three nodes with <c>--etcd</c> and two copies of every slot (a real etcd, 2 s leases). Each
/// fault SIGKILLs the primary of one recorded key's slot while the load runs, waits until the
/// controller has promoted its backup, starts the node again and waits until every slot has its
/// two copies back, then runs <c>rdmakv cluster rebalance</c>, which hands primaries back to it
/// (or moves them where it backs nothing). No acknowledged write may be lost. Remote clients
/// only, seeded with every node.
/// </summary>
sealed class Failover : Nemesis
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    EtcdCluster? _cluster;
    int _faults;

    public override Func<KvClient> Start(Scenario scenario, string workDirectory)
    {
        if (!scenario.Remote) throw new ArgumentException("a failover needs remote (ucx://) clients");
        _cluster = new EtcdCluster(nodes: 3, replicas: 2, leaseTtl: null, "--durability", scenario.Durability);
        var (pid, etcdData) = _cluster.Etcd.Identity;
        Leftovers.Record("pid", $"{pid} {etcdData}");
        Leftovers.Record("dir", etcdData);
        Leftovers.Record("dir", _cluster.Root);
        foreach (var s in _cluster.Running) Record(s);
        _cluster.WaitUntilServing(Patience);
        var cluster = _cluster;
        return () => cluster.Connect(cluster.Seeds(0, 1, 2), ClientTimeout);
    }

    static void Record(ServerProcess server)
    {
        Leftovers.Record("pid", $"{server.Process.Id} {server.Name}");
        Leftovers.Record("dir", server.SharedMemoryPath);
    }

    public override FaultResult Inject(Recorder recorder)
    {
        var cluster = _cluster!;
        var keys = recorder.Keys.ToList();
        var map = cluster.Map();
        int slot = map.SlotOf(Encoding.UTF8.GetBytes(keys[_faults++ % keys.Count]));
        string primary = map.Owners[slot];
        int index = int.Parse(primary.AsSpan("node".Length), System.Globalization.CultureInfo.InvariantCulture) - 1;
        int acknowledged = recorder.Acknowledged;
        cluster.Kill(index);
        long killed = Stopwatch.GetTimestamp();
        Kills.Add(killed);
        try
        {
            cluster.WaitForMap(m => m.Owners[slot] != primary, $"the failover of slot {slot} from {primary}", Patience);
            double failover = Milliseconds(killed, Stopwatch.GetTimestamp());
            cluster.Restart(index);
            Record(cluster.Server(index));
            cluster.WaitForMap(m => m.SlotsShortOfCopies == 0, "two copies of every slot again", Patience);
            cluster.WaitUntilServing(Patience);
            double restored = Milliseconds(killed, Stopwatch.GetTimestamp());
            // Primaries back to the restarted node while the load runs: hand-overs where it backs a slot, moves where not.
            var rebalance = cluster.Admin(index, "cluster", "rebalance");
            string what = $"SIGKILL of {primary} (primary of slot {slot}) at {acknowledged} acknowledged operations; a backup took over in {failover:F0} ms; restarted; two copies of every slot {restored:F0} ms after the kill";
            if (rebalance.ExitCode != 0) return new(what, $"rdmakv cluster rebalance failed: {rebalance}");
            var lines = rebalance.Text.Split('\n');
            cluster.WaitForMap(m => m.SlotsShortOfCopies == 0 && m.LedBy(primary) >= m.SlotCount / 3, $"{primary} leading its share again", Patience);
            return new($"{what}; rebalanced: {lines.Count(l => l.StartsWith("handing slot ", StringComparison.Ordinal))} slots handed to their backup, {lines.Count(l => l.StartsWith("moving slot ", StringComparison.Ordinal))} moved");
        }
        catch (TimeoutException e)
        {
            return new($"SIGKILL of {primary} (primary of slot {slot})", e.Message);
        }
    }

    public override string? Heal()
    {
        if (_cluster is null) return null;
        return _cluster.Running.FirstOrDefault(s => s.Process.HasExited) is { } dead ? $"node {dead.Name} exited with {dead.Process.ExitCode}" : null;
    }

    public override string Output => _cluster?.Describe() ?? "";

    public override void Dispose() => _cluster?.Dispose();
}
