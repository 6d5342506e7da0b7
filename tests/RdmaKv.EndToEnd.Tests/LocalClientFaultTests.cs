using System.Diagnostics;
using System.Text;
using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A local client whose node process dies, stops or restarts under it: the client must never take
/// its process down (callers get exceptions, the next call reconnects), must not wait for ever on a
/// stopped node, and must not read a dead node's memory once its successor writes.
/// </summary>
public abstract class LocalClientFaultTests(LocalWritePath writes) : IDisposable
{
    const int Threads = 8;
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();

    ServerProcess StartNode()
    {
        var node = ServerProcess.Start(_name, _data, "--listen", "none", "--admin-urls", "none", "--durability", "sync");
        node.WaitUntilUp();
        return node;
    }

    [Theory]
    [InlineData(Binaries.SigKill)]
    [InlineData(Binaries.SigTerm)]
    public void OneClientSharedByEightThreadsSurvivesItsNodeGoingAwayAndReconnects(int signal)
    {
        var node = StartNode();
        try
        {
            using var client = KvClient.Connect("local:" + _name, new KvClientOptions { LocalWrites = writes, Timeout = TimeSpan.FromSeconds(10) });
            var load = new SharedLoad(client, Threads);
            try
            {
                for (int round = 0; round < 3; round++)
                {
                    load.WaitForSuccessesAfterNow(); // every thread is busy against a live node
                    node.Signal(signal);
                    node.WaitForExit();
                    node.Dispose();
                    load.WaitForFailuresAfterNow(); // every thread has met the dead node
                    node = StartNode();
                }
                load.WaitForSuccessesAfterNow(); // and every thread came back by itself
            }
            finally
            {
                load.Stop();
            }
            Assert.True(load.Unexpected.IsEmpty, "calls failed with something other than a KvConnectionException or KvException:\n" + string.Join("\n", load.Unexpected));
        }
        finally
        {
            node.Dispose();
        }
    }

    [Fact]
    public async Task CallsToAStoppedNodeFailWithinTheTimeoutAndTheClientRecoversAfterItContinues()
    {
        using var node = StartNode();
        using var client = KvClient.Connect("local:" + _name, new KvClientOptions { LocalWrites = writes, Timeout = TimeSpan.FromSeconds(1) });
        client.Put("k", "before");
        node.Signal(SigStop);
        try
        {
            // The node stays stopped until the finally below: a call that does not time out never returns.
            // WaitAsync throws TimeoutException if a call does not give up.
            var put = await Task.Run(() => Assert.Throws<KvConnectionException>(() => client.Put("k", "during"))).WaitAsync(Binaries.Patience);
            Assert.Contains("did not answer within 1 s", put.Message);

            // The next call opens a new connection, which the stopped node cannot answer either.
            await Task.Run(() => Assert.ThrowsAny<IOException>(() => client.Delete("k"))).WaitAsync(Binaries.Patience);

            await Assert.ThrowsAsync<KvConnectionException>(async () => await client.PutAsync("k"u8.ToArray(), "async"u8.ToArray())).WaitAsync(Binaries.Patience);
        }
        finally
        {
            node.Signal(SigCont);
        }
        // The put that timed out had been sent: its outcome is unknown, so either value may stand.
        Assert.Contains(Encoding.UTF8.GetString(RetryUntilAnswered(() => client.Get("k"))!), new[] { "before", "during" });
        RetryUntilAnswered(() => { client.Put("k", "after"); return true; });
        Assert.Equal("after", Encoding.UTF8.GetString(client.Get("k")!));
    }

    [Fact]
    public void AReaderOfAKilledNodeNeverReadsItsMemoryOnceTheRestartedNodeHasWritten()
    {
        var killed = StartNode();
        ServerProcess? node = null;
        try
        {
            using var writer = KvClient.Connect("local:" + _name, new KvClientOptions { LocalWrites = writes });
            using var reader = KvClient.Connect("local:" + _name, new KvClientOptions { LocalWrites = writes, ReportInterval = Timeout.InfiniteTimeSpan });
            for (int i = 0; i < 100; i++) writer.Put($"key-{i}", "old");
            for (int i = 0; i < 100; i++) Assert.Equal("old", Encoding.UTF8.GetString(reader.Get($"key-{i}")!)); // cached locations

            // What the killed node left in its directory stays there, as after a real crash: the
            // reader's mappings are of those files.
            killed.Signal(Binaries.SigKill);
            killed.WaitForExit();
            node = StartNode();
            RetryUntilAnswered(() => { writer.Put("key-0", "new"); return true; });

            // The put above is acknowledged: no read that starts now may return "old" for key-0.
            string? seen = Encoding.UTF8.GetString(RetryUntilAnswered(() => reader.Get("key-0"))!);
            Assert.Equal("new", seen);
            for (int i = 1; i < 100; i++) Assert.Equal("old", Encoding.UTF8.GetString(reader.Get($"key-{i}")!));
        }
        finally
        {
            node?.Dispose();
            killed.Dispose();
        }
    }

    const int SigStop = 19, SigCont = 18;

    /// <summary>Runs <paramref name="call"/> until it does not fail on the connection (the first call after a restart may).</summary>
    static T RetryUntilAnswered<T>(Func<T> call)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return call();
            }
            catch (KvConnectionException) when (deadline.Elapsed < Binaries.Patience)
            {
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class LocalClientFaultOverMailboxTests() : LocalClientFaultTests(LocalWritePath.Mailbox);

public sealed class LocalClientFaultOverSocketTests() : LocalClientFaultTests(LocalWritePath.Socket);
