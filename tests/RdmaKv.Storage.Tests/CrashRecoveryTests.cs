using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using Xunit.Abstractions;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// The real server as a child process under a put and delete load from this process, killed with
/// SIGKILL at random moments and restarted on the same data directory, three times per mode.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    const int Keys = 400;
    readonly TempDirectory _dir = new();

    /// <summary>One key's writes since the last restart, in order (each key has one writing thread).</summary>
    sealed class KeyHistory
    {
        public string? Initial;
        public readonly List<(string? Value, long AckedAt)> Acked = [];
        public (string? Value, bool Sent) InFlight;
    }

    [Fact]
    public void SyncLosesNothingAcknowledgedAndNoDeletedKeyComesBack() => CrashRepeatedly("sync", lossWindow: TimeSpan.Zero);

    [Fact]
    public void AsyncLosesAtMostTheLastCommitWindow() => CrashRepeatedly("async", lossWindow: TimeSpan.FromSeconds(1));

    void CrashRepeatedly(string mode, TimeSpan lossWindow)
    {
        string name = "crash-" + Guid.NewGuid().ToString("N")[..12];
        string[] args = ["--durability", mode, "--commit-interval", "5"];
        var history = Enumerable.Range(0, Keys).Select(_ => new KeyHistory()).ToArray();
        var random = new Random();
        long worstLoss = 0;
        for (int round = 0; round < 3; round++)
        {
            long killedAt;
            using (var server = new ServerProcess(name, _dir.Path, args))
            {
                server.WaitUntilUp();
                killedAt = LoadAndKill(server, name, history, TimeSpan.FromMilliseconds(random.Next(150, 700)), out long acked);
                output.WriteLine($"{mode} round {round}: {acked} writes acknowledged before the kill");
                // A sync write waits for a commit (~10 ms on this VM's disk), so few are needed.
                Assert.True(acked >= 10, $"only {acked} writes were acknowledged before the kill");
            }
            using var restarted = new ServerProcess(name, _dir.Path, args);
            restarted.WaitUntilUp();
            Assert.Contains("Recovered", restarted.Output, StringComparison.Ordinal);
            using (var client = KvClient.Connect("local:" + name))
            {
                for (int k = 0; k < Keys; k++)
                {
                    string? value = client.Get(Key(k)) is { } v ? Encoding.UTF8.GetString(v) : null;
                    worstLoss = Math.Max(worstLoss, Check(history[k], value, killedAt - Ticks(lossWindow), killedAt, $"{mode} round {round} key {k}"));
                    history[k] = new KeyHistory { Initial = value };
                }
            }
            restarted.Kill(); // the next round recovers from a crash of a recovered node
        }
        output.WriteLine($"{mode}: the oldest lost write was acknowledged {worstLoss * 1000.0 / Stopwatch.Frequency:F1} ms before the kill");
    }

    /// <summary>Checks one key's recovered value; returns how long before the kill the oldest lost acknowledged write was acknowledged.</summary>
    static long Check(KeyHistory h, string? recovered, long mustHave, long killedAt, string what)
    {
        // The states the key may be in: after any write acknowledged at or after the last one that
        // must survive, or after the write in flight when the server died.
        int floor = h.Acked.FindLastIndex(a => a.AckedAt <= mustHave);
        var allowed = new List<string?>();
        if (floor < 0) allowed.Add(h.Initial);
        for (int i = Math.Max(floor, 0); i < h.Acked.Count; i++) allowed.Add(h.Acked[i].Value);
        if (h.InFlight.Sent) allowed.Add(h.InFlight.Value);
        Assert.True(allowed.Contains(recovered),
            $"{what}: recovered {recovered ?? "(absent)"}, expected one of [{string.Join(", ", allowed.Select(a => a ?? "(absent)"))}]");

        int survivor = recovered == h.Initial && floor < 0 ? -1 : h.Acked.FindLastIndex(a => a.Value == recovered);
        return survivor + 1 < h.Acked.Count && survivor >= -1 && !(h.InFlight.Sent && recovered == h.InFlight.Value)
            ? killedAt - h.Acked[survivor + 1].AckedAt
            : 0;
    }

    static long LoadAndKill(ServerProcess server, string name, KeyHistory[] history, TimeSpan killAfter, out long acked)
    {
        long count = 0;
        var threads = new Thread[2];
        for (int t = 0; t < threads.Length; t++)
        {
            int self = t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(self * 7919 + Environment.TickCount);
                try
                {
                    using var client = KvClient.Connect("local:" + name);
                    for (long n = 0; n < 200_000; n++)
                    {
                        int k = random.Next(Keys / 2) * 2 + self; // each key has one writing thread
                        var h = history[k];
                        bool delete = random.Next(5) == 0;
                        string? value = delete ? null : $"{k}:{n}:{self}:{Guid.NewGuid():N}";
                        h.InFlight = (value, true);
                        if (delete) client.Delete(Key(k));
                        else client.Put(Encoding.UTF8.GetBytes(Key(k)), Encoding.UTF8.GetBytes(value!));
                        h.Acked.Add((value, Stopwatch.GetTimestamp()));
                        h.InFlight = default;
                        Interlocked.Increment(ref count);
                    }
                }
                catch (Exception e) when (e is KvConnectionException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // The server died under the load: the write in flight stays unacknowledged.
                }
            });
            threads[t].Start();
        }
        // The kill comes at a random moment once the load is running (connecting takes a while).
        long patience = Environment.TickCount64 + 30_000;
        while (Interlocked.Read(ref count) < 20 && threads.Any(t => t.IsAlive) && Environment.TickCount64 < patience) Thread.Sleep(1);
        Thread.Sleep(killAfter);
        long killedAt = Stopwatch.GetTimestamp();
        server.Kill();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a load thread hung after the server died");
        acked = Interlocked.Read(ref count);
        return killedAt;
    }

    static string Key(int k) => $"crash-key-{k:D4}";

    static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    public void Dispose() => _dir.Dispose();
}
