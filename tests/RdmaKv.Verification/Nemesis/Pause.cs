using System.Diagnostics;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// SIGSTOP of the node until some call has failed by its timeout (or three timeouts passed), then
/// SIGCONT. A client call must fail within its timeout, not hang for the whole pause.
/// </summary>
sealed class Pause : NodeNemesis
{
    public override FaultResult Inject(Recorder recorder)
    {
        int errorsBefore = recorder.Errors.Values.Sum(e => e.Count);
        long stopped = Stopwatch.GetTimestamp();
        Node!.Signal(19); // SIGSTOP
        bool failed;
        try
        {
            failed = SpinWait.SpinUntil(() => recorder.Errors.Values.Sum(e => e.Count) > errorsBefore, ClientTimeout * 3);
        }
        finally
        {
            Node.Signal(18); // SIGCONT
        }
        double held = Milliseconds(stopped, Stopwatch.GetTimestamp());
        return failed
            ? new($"SIGSTOP for {held:F0} ms; a call failed within it")
            : new($"SIGSTOP for {held:F0} ms", $"no call failed within {ClientTimeout.TotalMilliseconds * 3:F0} ms of SIGSTOP (client timeout {ClientTimeout.TotalMilliseconds:F0} ms): calls hang");
    }
}
