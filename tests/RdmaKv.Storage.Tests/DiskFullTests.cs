using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Tests;
using Xunit.Abstractions;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// A real node whose data directory is on a 64 MiB tmpfs that a filler file mostly takes, written
/// to over <c>local:</c> until the disk is full: it must answer DiskFull, stay up and serve reads,
/// take writes again once the filler is deleted, and lose nothing it acknowledged as durable.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    // 20 MiB left for the node: the log fills it, and once the filler is gone a checkpoint of the
    // store (as large as the data, plus a 4 MiB index) still fits beside it.
    const int TmpfsMegabytes = 64;
    const int FillerMegabytes = 44;
    const int ValueBytes = 4000;
    static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    static string[] Args(string mode) => ["--durability", mode, "--commit-interval", "5", "--checkpoint-interval", "0", "--listen", "none"];

    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    public void ANodeOnAFullDiskAnswersDiskFullServesReadsAndTakesWritesAgainOnceSpaceIsFreed(string mode)
    {
        using var tmpfs = new SmallTmpfs(TmpfsMegabytes);
        tmpfs.Fill(FillerMegabytes);
        string name = "full-" + Guid.NewGuid().ToString("N")[..12];
        var load = new DiskFullLoad(name, threads: 4, keysPerThread: 250, ValueBytes);
        using (var server = new ServerProcess(name, tmpfs.DataDirectory, Args(mode)))
        {
            server.WaitUntilUp();
            var started = Stopwatch.StartNew();
            load.Run(diskFullPerThread: 3, writesPerThread: 0, Deadline);
            output.WriteLine($"{mode}: {load.Acknowledged} writes acknowledged, then {load.DiskFullReplies} DiskFull replies, in {started.ElapsedMilliseconds} ms; {tmpfs.AvailableBytes} bytes free");
            Assert.False(server.HasExited, $"the node died on the full disk: {server.Output}");
            Assert.True(load.DiskFullReplies >= 4, $"the disk never filled: {load.Acknowledged} writes acknowledged in {Deadline}");

            // The full disk does not stop reads: every acknowledged write is served.
            using (var client = KvClient.Connect("local:" + name))
                Assert.Empty(load.Lost(client));
            Assert.False(server.HasExited, $"the node died on the full disk: {server.Output}");

            tmpfs.Free();
            long acked = load.Acknowledged;
            started.Restart();
            load.Run(diskFullPerThread: 0, writesPerThread: 100, Deadline);
            output.WriteLine($"{mode}: after the filler was deleted, {load.Acknowledged - acked} more writes acknowledged in {started.ElapsedMilliseconds} ms ({load.DiskFullReplies} DiskFull replies in all)");
            Assert.Equal(acked + 400, load.Acknowledged);

            // Sync: a crash. Async: a clean stop (a crash may lose its last commit window, measured below).
            if (mode == "sync") server.Kill();
            else Assert.Equal(0, server.Terminate());
        }
        using var restarted = new ServerProcess(name, tmpfs.DataDirectory, Args(mode));
        restarted.WaitUntilUp();
        using var reader = KvClient.Connect("local:" + name);
        var lost = load.Lost(reader);
        output.WriteLine($"{mode}: {lost.Count} of {load.Acknowledged} acknowledged writes lost after the restart");
        Assert.Empty(lost);
    }

    [Fact]
    public async Task AWriteOnAFullDiskGets507OverHttpAndAClientExceptionThatSaysSo()
    {
        using var tmpfs = new SmallTmpfs(TmpfsMegabytes);
        tmpfs.Fill(FillerMegabytes);
        string name = "full-" + Guid.NewGuid().ToString("N")[..12];
        int port = ProcessOutput.FreeLoopbackPort();
        using var server = new ServerProcess(name, tmpfs.DataDirectory, [.. Args("sync"), "--admin-urls", $"http://127.0.0.1:{port}"]);
        server.WaitUntilUp();
        var load = new DiskFullLoad(name, threads: 1, keysPerThread: 1000, ValueBytes);
        load.Run(diskFullPerThread: 1, writesPerThread: 0, Deadline);
        Assert.Equal(1, load.DiskFullReplies);

        using (var client = KvClient.Connect("local:" + name))
        {
            var refused = Assert.Throws<KvException>(() => client.Put("one-more", "value"));
            Assert.Equal(StoreStatus.DiskFull, refused.Status);
            Assert.Contains("out of space", refused.Message, StringComparison.Ordinal);
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", File.ReadAllText(Path.Combine(tmpfs.DataDirectory, "admin-token")).Trim());
        using var response = await http.PutAsync("/api/keys/one-more", new ByteArrayContent(Encoding.UTF8.GetBytes("value")));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Contains("DiskFull", body, StringComparison.Ordinal);
        // Reads go on.
        using var read = await http.GetAsync("/api/keys/" + DiskFullLoad.Key(0));
        Assert.True(read.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET on the full disk: {read.StatusCode}");
    }

    [Fact]
    public void ANodeWhoseStoreLogAlsoSpillsToTheFullDiskStaysUpServesReadsAndLosesNothingAcrossARestart()
    {
        // A 16 MiB store keeps only part of 40 MiB of data in memory: its own log pages go to the
        // disk too, and may be what fails first (FASTER cannot go on past such a page: the node
        // then refuses writes until it is restarted).
        using var tmpfs = new SmallTmpfs(TmpfsMegabytes);
        tmpfs.Fill(20);
        string name = "full-" + Guid.NewGuid().ToString("N")[..12];
        string[] args = [.. Args("sync"), "--store-memory", "16m"];
        var load = new DiskFullLoad(name, threads: 4, keysPerThread: 2000, ValueBytes);
        using (var server = new ServerProcess(name, tmpfs.DataDirectory, args))
        {
            server.WaitUntilUp();
            load.Run(diskFullPerThread: 3, writesPerThread: 0, Deadline);
            output.WriteLine($"sync, 16 MiB store: {load.Acknowledged} writes acknowledged, then {load.DiskFullReplies} DiskFull replies");
            Assert.True(load.DiskFullReplies >= 4, $"the disk never filled: {load.Acknowledged} writes acknowledged in {Deadline}");
            using (var client = KvClient.Connect("local:" + name))
                Assert.Empty(load.Lost(client));
            Assert.False(server.HasExited, $"the node died on the full disk: {server.Output}");
            server.WaitForOutput("Writes are refused with DiskFull"); // and the node says why
            server.Kill();
        }
        tmpfs.Free();
        using var restarted = new ServerProcess(name, tmpfs.DataDirectory, args);
        restarted.WaitUntilUp();
        using var reader = KvClient.Connect("local:" + name);
        var lost = load.Lost(reader);
        output.WriteLine($"sync, 16 MiB store: {lost.Count} of {load.Acknowledged} acknowledged writes lost after the restart");
        Assert.Empty(lost);
    }

    [Fact]
    public void AnAsyncNodeKilledOnAFullDiskRecoversAPrefixOfItsWritesAndStartsAfterSpaceIsFreed()
    {
        using var tmpfs = new SmallTmpfs(TmpfsMegabytes);
        tmpfs.Fill(FillerMegabytes);
        string name = "full-" + Guid.NewGuid().ToString("N")[..12];
        // One writer: the order of its acknowledgements is the order of the log.
        var load = new DiskFullLoad(name, threads: 1, keysPerThread: 1000, ValueBytes);
        long killedAt;
        using (var server = new ServerProcess(name, tmpfs.DataDirectory, Args("async")))
        {
            server.WaitUntilUp();
            load.Run(diskFullPerThread: 1, writesPerThread: 0, Deadline);
            Assert.False(server.HasExited, $"the node died on the full disk: {server.Output}");
            Assert.Equal(1, load.DiskFullReplies);
            killedAt = Stopwatch.GetTimestamp();
            server.Kill();
        }
        tmpfs.Free();
        using var restarted = new ServerProcess(name, tmpfs.DataDirectory, Args("async"));
        restarted.WaitUntilUp();
        using var reader = KvClient.Connect("local:" + name);
        Assert.Null(load.PrefixViolation(reader));
        var lost = load.Lost(reader);
        double window = lost.Count == 0 ? 0 : (load.FirstDiskFullAt - lost.Min(w => w.AckedAt)) * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"async, killed on the full disk: {lost.Count} of {load.Acknowledged} acknowledged writes lost; " +
            $"the oldest was acknowledged {window:F1} ms before the first DiskFull ({(killedAt - load.FirstDiskFullAt) * 1000.0 / Stopwatch.Frequency:F0} ms before the kill)");
        Assert.True(lost.Count < load.Acknowledged / 2, $"the restarted node lost {lost.Count} of {load.Acknowledged} writes: {restarted.Output}");
    }
}
