using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// The data directory on a 64 MiB tmpfs that the load fills; then space returns (the tmpfs grows
/// to 1 GiB). The node must stay up, refuse what it cannot make durable, and take writes again.
/// </summary>
sealed class DiskFull : NodeNemesis
{
    string? _mount;

    /// <summary>Padding that makes each put fill the disk sooner.</summary>
    public const int ValuePadding = 16_000;

    protected override NodeUnderTest StartNode(Scenario scenario, string workDirectory)
    {
        Shell.RequireRoot("a data directory on a small tmpfs");
        _mount = Path.Combine(workDirectory, "tmpfs");
        Directory.CreateDirectory(_mount);
        Leftovers.Record("mount", _mount);
        Shell.Run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", _mount);
        return new NodeUnderTest(Path.Combine(_mount, "data"), scenario.Durability);
    }

    int Errors(Recorder recorder) => recorder.Errors.Values.Sum(e => e.Count);

    bool Full => new DriveInfo(_mount!).AvailableFreeSpace < 1 << 20;

    /// <summary>
    /// Waits for the disk to fill, then for the node's answer to it (a failed write, or the node
    /// gone; or 300 more operations acknowledged while full), frees space, and kills and restarts
    /// the node: what was acknowledged must be on disk (every key is read after the restart, before
    /// the clients go on).
    /// </summary>
    public override FaultResult Inject(Recorder recorder)
    {
        bool full = SpinWait.SpinUntil(() => Full || !Node!.IsRunning, TimeSpan.FromSeconds(120));
        if (!full) return new("the disk did not fill within 120 s", "the load did not fill a 64 MiB disk");
        int errors = Errors(recorder), acknowledged = recorder.Acknowledged;
        SpinWait.SpinUntil(() => Errors(recorder) > errors || !Node!.IsRunning || recorder.Acknowledged > acknowledged + 300 || recorder.Finished, TimeSpan.FromSeconds(60));
        int whileFull = recorder.Acknowledged - acknowledged;
        var problems = new List<string>();
        // Still up a moment later (it may be failing on its way out)?
        bool alive = Node!.IsRunning && !Node.Process.WaitForExit(ClientTimeout);
        if (!alive) problems.Add($"the node exited (code {Node.Process.ExitCode}) when its disk filled");
        if (Errors(recorder) == errors && alive) problems.Add($"no write failed while the disk was full ({whileFull} operations acknowledged)");
        string text = $"disk full; {whileFull} operations acknowledged then; client errors: {string.Join(", ", recorder.Errors.Select(e => $"{e.Key} x{e.Value.Count}"))}; node {(alive ? "alive" : "dead")}";
        Shell.Run("mount", "-o", "remount,size=1g", _mount!);
        if (alive)
        {
            if (!recorder.WaitForProgress(300, TimeSpan.FromSeconds(60)) && !recorder.Finished) problems.Add("the node took no writes after space returned");
            Node.Kill();
            Kills.Add(System.Diagnostics.Stopwatch.GetTimestamp());
            text += "; space returned; SIGKILL";
        }
        if (!recorder.Hold(ClientTimeout * 3)) problems.Add("clients were still in calls after the kill");
        try
        {
            Node.Restart();
            recorder.ReadAll(TimeSpan.FromSeconds(60));
        }
        finally
        {
            recorder.Resume();
        }
        return new(text + "; restarted; every key read", problems.Count == 0 ? null : string.Join("; ", problems));
    }

    public override void Dispose()
    {
        base.Dispose();
        if (_mount is null) return;
        Shell.TryRun("umount", _mount);
        if (File.Exists("/proc/mounts") && File.ReadAllText("/proc/mounts").Contains(" " + _mount + " ", StringComparison.Ordinal))
            Shell.TryRun("umount", "-l", _mount);
    }
}
