using System.Diagnostics;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// SIGKILL of the node in the middle of the load, then a restart with the same name, data
/// directory and ports. Every other time the clients are held from the kill until every key has
/// been read once after the restart (nothing written since can hide a lost write); in between, they
/// race the restart.
/// </summary>
sealed class KillRestart : NodeNemesis
{
    int _faults;

    public override FaultResult Inject(Recorder recorder)
    {
        bool probe = _faults++ % 2 == 0;
        int acknowledged = recorder.Acknowledged;
        Node!.Kill();
        long killed = Stopwatch.GetTimestamp();
        Kills.Add(killed);
        bool held = probe && recorder.Hold(ClientTimeout * 3);
        try
        {
            Node.Restart();
            string text = $"SIGKILL at {acknowledged} acknowledged operations; restarted in {Milliseconds(killed, Stopwatch.GetTimestamp()):F0} ms";
            if (!probe) return new(text + "; clients raced the restart");
            if (!held) return new(text, $"clients were still in calls {ClientTimeout.TotalMilliseconds * 3:F0} ms after the kill");
            recorder.ReadAll(TimeSpan.FromSeconds(60));
            return new(text + "; every key read before the clients went on");
        }
        finally
        {
            recorder.Resume();
        }
    }
}
