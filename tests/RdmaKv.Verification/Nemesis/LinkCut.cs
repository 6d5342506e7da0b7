using System.Diagnostics;
using RdmaKv.Transport.Ucx;
using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// The node in its own network namespace behind a veth pair; the link goes down until a call has
/// failed (or three timeouts passed), then comes back. Remote clients only; needs root. Widens this
/// process's UCX_NET_DEVICES to the veth, so it runs in a scenario child process of its own.
/// </summary>
sealed class LinkCut : NodeNemesis
{
    readonly string _id = Guid.NewGuid().ToString("N")[..6];
    readonly int _subnet = Random.Shared.Next(1, 250);
    bool _created;

    string Namespace => "rdmakv-v" + _id;
    string HostSide => "rkv" + _id + "h";
    string NodeSide => "rkv" + _id + "n";

    protected override NodeUnderTest StartNode(Scenario scenario, string workDirectory)
    {
        Shell.RequireRoot("a link cut between network namespaces");
        if (!scenario.Remote) throw new ArgumentException("a link cut needs remote (ucx://) clients");
        _created = true;
        Leftovers.Record("netns", Namespace);
        Leftovers.Record("link", HostSide);
        Shell.Run("ip", "netns", "add", Namespace);
        Shell.Run("ip", "link", "add", HostSide, "type", "veth", "peer", "name", NodeSide);
        Shell.Run("ip", "link", "set", NodeSide, "netns", Namespace);
        Shell.Run("ip", "addr", "add", $"10.214.{_subnet}.1/30", "dev", HostSide);
        Shell.Run("ip", "link", "set", HostSide, "up");
        Shell.Run("ip", "netns", "exec", Namespace, "ip", "addr", "add", $"10.214.{_subnet}.2/30", "dev", NodeSide);
        Shell.Run("ip", "netns", "exec", Namespace, "ip", "link", "set", NodeSide, "up");
        Shell.Run("ip", "netns", "exec", Namespace, "ip", "link", "set", "lo", "up");
        UcxEnvironment.Set("UCX_NET_DEVICES", HostSide + ",lo");
        return new NodeUnderTest(Path.Combine(workDirectory, "data"), scenario.Durability, $"10.214.{_subnet}.2", ["ip", "netns", "exec", Namespace],
            new Dictionary<string, string> { ["UCX_TLS"] = "tcp", ["UCX_NET_DEVICES"] = NodeSide });
    }

    public override FaultResult Inject(Recorder recorder)
    {
        int before = recorder.Errors.Values.Sum(e => e.Count);
        long cut = Stopwatch.GetTimestamp();
        Shell.Run("ip", "link", "set", HostSide, "down");
        bool failed;
        try
        {
            failed = SpinWait.SpinUntil(() => recorder.Errors.Values.Sum(e => e.Count) > before, ClientTimeout * 3);
        }
        finally
        {
            Shell.Run("ip", "link", "set", HostSide, "up");
        }
        double held = Milliseconds(cut, Stopwatch.GetTimestamp());
        return failed
            ? new($"link down for {held:F0} ms; a call failed within it")
            : new($"link down for {held:F0} ms", $"no call failed within {held:F0} ms of the cut (client timeout {ClientTimeout.TotalMilliseconds:F0} ms)");
    }

    public override void Dispose()
    {
        base.Dispose();
        if (!_created) return;
        Shell.TryRun("ip", "link", "del", HostSide);
        Shell.TryRun("ip", "netns", "del", Namespace);
    }
}
