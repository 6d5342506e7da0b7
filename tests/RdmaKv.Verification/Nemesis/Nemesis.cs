using System.Diagnostics;
using RdmaKv.Client;
using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification.Nemesis;

/// <summary>What one fault did; <see cref="Problem"/> says what broke a promise (a hang, a dead node), if anything.</summary>
sealed record FaultResult(string Text, string? Problem = null);

/// <summary>
/// A fault and what it is done to: <see cref="Start"/> brings up the node(s) and says how a client
/// connects; <see cref="Inject"/> causes one fault, heals it, and says what happened. Each fault
/// is bounded in time. Kills are timestamped (Stopwatch) to measure a loss window.
/// </summary>
abstract class Nemesis : IDisposable
{
    /// <summary>How long a client call may take before it fails (remote and local).</summary>
    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(2);

    public List<long> Kills { get; } = [];

    public abstract Func<KvClient> Start(Scenario scenario, string workDirectory);

    public abstract FaultResult Inject(Recorder recorder);

    /// <summary>After the run: whatever is needed so the final reads reach a node (restart one that died).</summary>
    public virtual string? Heal() => null;

    /// <summary>What the node(s) printed, kept with a failing history.</summary>
    public virtual string Output => "";

    public abstract void Dispose();

    public static Nemesis Create(string name) => name switch
    {
        "none" => new NoFault(),
        "kill" => new KillRestart(),
        "pause" => new Pause(),
        "diskfull" => new DiskFull(),
        "linkcut" => new LinkCut(),
        "move" => new SlotMove(),
        "failover" => new Failover(),
        _ => throw new ArgumentException($"no nemesis '{name}'"),
    };

    protected static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}

/// <summary>A fault done to one node process; the node restarts when a fault (or the node itself) stopped it.</summary>
abstract class NodeNemesis : Nemesis
{
    protected NodeUnderTest? Node { get; set; }

    protected bool Remote { get; private set; }

    public override Func<KvClient> Start(Scenario scenario, string workDirectory)
    {
        Remote = scenario.Remote;
        Node = StartNode(scenario, workDirectory);
        var node = Node;
        return () => node.Connect(Remote, ClientTimeout);
    }

    protected virtual NodeUnderTest StartNode(Scenario scenario, string workDirectory) =>
        new(Path.Combine(workDirectory, "data"), scenario.Durability);

    public override string? Heal()
    {
        if (Node is null || Node.IsRunning) return null;
        int code = Node.Process.ExitCode;
        Node.Restart();
        return $"the node had exited (code {code}); restarted it for the final reads";
    }

    public override string Output => Node?.Output ?? "";

    public override void Dispose() => Node?.Dispose();
}

/// <summary>No fault: the baseline every other scenario is compared with.</summary>
sealed class NoFault : NodeNemesis
{
    public override FaultResult Inject(Recorder recorder) => new("no fault");
}
