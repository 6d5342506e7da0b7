using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using Xunit.Abstractions;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// The real server as a child process under a put and delete load from this process, killed with
/// SIGKILL after a random number of acknowledged writes and restarted on the same data directory,
/// three times per mode. Nothing here is timed: with sync, every acknowledged write survives; with
/// async, the load pauses once per round until the node reports everything committed (its
/// uncommitted log bytes are 0), every write acknowledged before that survives, and what is lost
/// after it is a tail of the log: no write survives while one acknowledged before it was sent is lost.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    const int Keys = 400;
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);
    readonly TempDirectory _dir = new();

    /// <summary>One key's writes since the last restart, in order (each key has one writing thread).</summary>
    sealed class KeyHistory
    {
        public string? Initial;
        public readonly List<(string? Value, long SentAt, long AckedAt)> Acked = [];
        public (string? Value, long SentAt, bool Sent) InFlight;
        /// <summary>The first Durable acknowledged writes were committed when the node said so.</summary>
        public int Durable;
    }

    [Fact]
    public void SyncLosesNothingAcknowledgedAndNoDeletedKeyComesBack() => CrashRepeatedly("sync");

    [Fact]
    public void AsyncLosesOnlyATailOfTheLogAfterTheLastReportedCommit() => CrashRepeatedly("async");

    void CrashRepeatedly(string mode)
    {
        bool sync = mode == "sync";
        string name = "crash-" + Guid.NewGuid().ToString("N")[..12];
        string[] args = ["--durability", mode, "--commit-interval", "5"];
        var history = Enumerable.Range(0, Keys).Select(_ => new KeyHistory()).ToArray();
        var random = new Random();
        double worstLossMs = 0;
        for (int round = 0; round < 3; round++)
        {
            long killedAt;
            // Async asks the admin plane (on a port of its own) whether the log is committed.
            using (var server = sync ? new ServerProcess(name, _dir.Path, args) : ServerProcess.StartWithAdmin(name, _dir.Path, args))
            {
                server.WaitUntilUp();
                killedAt = LoadAndKill(server, name, history, sync, random, out long acked, out long durable);
                output.WriteLine($"{mode} round {round}: {acked} writes acknowledged before the kill" + (sync ? "" : $", the first {durable} reported committed"));
                Assert.True(acked >= 10, $"only {acked} writes were acknowledged before the kill");
            }
            using var restarted = new ServerProcess(name, _dir.Path, args);
            restarted.WaitUntilUp();
            Assert.Contains("Recovered", restarted.Output, StringComparison.Ordinal);
            long firstLostAck = long.MaxValue, lastSurvivorSent = long.MinValue;
            using (var client = KvClient.Connect("local:" + name))
            {
                for (int k = 0; k < Keys; k++)
                {
                    var h = history[k];
                    if (sync) h.Durable = h.Acked.Count;
                    string? value = client.Get(Key(k)) is { } v ? Encoding.UTF8.GetString(v) : null;
                    var (lostAck, survivorSent) = Check(h, value, $"{mode} round {round} key {k}");
                    firstLostAck = Math.Min(firstLostAck, lostAck);
                    lastSurvivorSent = Math.Max(lastSurvivorSent, survivorSent);
                    history[k] = new KeyHistory { Initial = value };
                }
            }
            // The log is one sequence and a commit covers a prefix of it: a write acknowledged before
            // another was sent is earlier in the log, so it cannot be lost while the other survives.
            Assert.True(firstLostAck > lastSurvivorSent,
                $"{mode} round {round}: a write acknowledged {Ms(lastSurvivorSent - firstLostAck):F1} ms before a surviving write was sent is lost: the recovered state is not a prefix of the log");
            if (firstLostAck != long.MaxValue) worstLossMs = Math.Max(worstLossMs, Ms(killedAt - firstLostAck));
            restarted.Kill(); // the next round recovers from a crash of a recovered node
        }
        output.WriteLine($"{mode}: the oldest lost write was acknowledged {worstLossMs:F1} ms before the kill");
    }

    /// <summary>
    /// Checks one key's recovered value. Returns when the first lost acknowledged write was
    /// acknowledged (MaxValue if none), and when the surviving write was sent (MinValue when that
    /// is not known: the value it left is absent or from an earlier round).
    /// </summary>
    static (long LostAck, long SurvivorSent) Check(KeyHistory h, string? recovered, string what)
    {
        // The states the key may be in: after the last write known committed or any later one,
        // or after the write in flight when the server died.
        int floor = h.Durable - 1;
        var allowed = new List<string?>();
        if (floor < 0) allowed.Add(h.Initial);
        for (int i = Math.Max(floor, 0); i < h.Acked.Count; i++) allowed.Add(h.Acked[i].Value);
        if (h.InFlight.Sent) allowed.Add(h.InFlight.Value);
        Assert.True(allowed.Contains(recovered),
            $"{what}: recovered {recovered ?? "(absent)"}, expected one of [{string.Join(", ", allowed.Select(a => a ?? "(absent)"))}]");

        if (h.InFlight.Sent && recovered == h.InFlight.Value)
            return (long.MaxValue, recovered is null ? long.MinValue : h.InFlight.SentAt);
        // The latest write that left this value (values are unique; an absent key may be any delete).
        int survivor = h.Acked.FindLastIndex(a => a.Value == recovered);
        long lostAck = survivor + 1 < h.Acked.Count ? h.Acked[survivor + 1].AckedAt : long.MaxValue;
        return (lostAck, survivor >= 0 && recovered is not null ? h.Acked[survivor].SentAt : long.MinValue);
    }

    static long LoadAndKill(ServerProcess server, string name, KeyHistory[] history, bool sync, Random random, out long acked, out long durable)
    {
        long count = 0;
        int pause = 0;
        var threads = new Thread[2];
        // Not disposed: a writer may still touch them after a failed assertion ends this method.
        var paused = new CountdownEvent(threads.Length);
        var resume = new ManualResetEventSlim();
        for (int t = 0; t < threads.Length; t++)
        {
            int self = t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(self * 7919 + Environment.TickCount);
                bool stopped = false;
                try
                {
                    using var client = KvClient.Connect("local:" + name);
                    for (long n = 0; n < 10_000_000; n++)
                    {
                        if (!stopped && Volatile.Read(ref pause) == 1)
                        {
                            stopped = true;
                            paused.Signal();
                            resume.Wait(Patience * 2);
                        }
                        int k = random.Next(Keys / 2) * 2 + self; // each key has one writing thread
                        var h = history[k];
                        bool delete = random.Next(5) == 0;
                        string? value = delete ? null : $"{k}:{n}:{self}:{Guid.NewGuid():N}";
                        long sent = Stopwatch.GetTimestamp();
                        h.InFlight = (value, sent, true);
                        if (delete) client.Delete(Key(k));
                        else client.Put(Encoding.UTF8.GetBytes(Key(k)), Encoding.UTF8.GetBytes(value!));
                        h.Acked.Add((value, sent, Stopwatch.GetTimestamp()));
                        h.InFlight = default;
                        Interlocked.Increment(ref count);
                    }
                }
                catch (Exception e) when (e is KvConnectionException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // The server died under the load: the write in flight stays unacknowledged.
                }
                finally
                {
                    if (!stopped) paused.Signal();
                }
            })
            { IsBackground = true };
            threads[t].Start();
        }
        var clock = Stopwatch.StartNew();
        void AwaitWrites(long atLeast)
        {
            while (Interlocked.Read(ref count) < atLeast && threads.Any(t => t.IsAlive))
            {
                Assert.True(clock.Elapsed < Patience, $"{count} of {atLeast} writes acknowledged in {Patience}");
                Thread.Sleep(1);
            }
        }
        durable = 0;
        try
        {
            AwaitWrites(20); // connecting takes a while
            if (!sync)
            {
                // The writers stop between writes until the node reports no uncommitted log bytes: every
                // write acknowledged so far is committed.
                Volatile.Write(ref pause, 1);
                Assert.True(paused.Wait(Patience), "the writers did not pause");
                while (server.NodeStat("aof_uncommitted_bytes") is not 0)
                {
                    Assert.True(clock.Elapsed < Patience * 2, $"the node reports {server.NodeStat("aof_uncommitted_bytes")} uncommitted log bytes after {clock.Elapsed}");
                    Thread.Sleep(1);
                }
                foreach (var h in history)
                {
                    h.Durable = h.Acked.Count;
                    durable += h.Acked.Count;
                }
                resume.Set();
            }
            // The kill comes after a random number of further acknowledged writes.
            clock.Restart();
            AwaitWrites(Interlocked.Read(ref count) + random.Next(10, 400));
            long killedAt = Stopwatch.GetTimestamp();
            server.Kill();
            foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a load thread hung after the server died");
            acked = Interlocked.Read(ref count);
            return killedAt;
        }
        finally
        {
            resume.Set(); // a writer paused by a failed run goes on, and ends with the server
        }
    }

    static string Key(int k) => $"crash-key-{k:D4}";

    static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public void Dispose() => _dir.Dispose();
}
