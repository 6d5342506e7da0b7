using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>An async request cancelled while the node works on it must not disturb the requests after it.</summary>
public abstract class CancellationTests : IDisposable
{
    readonly TestNode _node = new(o => o with { Partitions = 1 });
    readonly KvClient _client;

    // No spinning: every wait for a reply sleeps at once, so a stale wake-up from the cancelled
    // wait is always met (with spinning, the reply usually comes first and hides it).
    protected CancellationTests(TestTransport writes) =>
        _client = TestNode.ConnectOrStop(_node, new KvClientOptions { LocalWrites = writes == TestTransport.Socket ? LocalWritePath.Socket : LocalWritePath.Mailbox, SpinBeforeBlock = TimeSpan.Zero });

    static void WaitFor(Func<bool> condition, string failure) => Assert.True(SpinWait.SpinUntil(condition, Binaries.Patience), failure);

    [Fact]
    public async Task PutCancelledWhileTheNodeWorksDoesNotConfuseTheNextRequest()
    {
        var partition = _node.Node.Partitions[0];
        using var cancel = new CancellationTokenSource();
        Task put;
        using (partition.Lock.EnterScope()) // the node's put waits for this lock: its reply is held back
        {
            put = _client.PutAsync("slow"u8.ToArray(), "v"u8.ToArray(), cancel.Token).AsTask();
            WaitFor(() => _node.Stat("puts") == 1, "the put never reached the node");
            cancel.Cancel();
            WaitFor(() => put.IsCompleted, "cancelling did not end the wait for the reply");
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put);
        WaitFor(() => _node.Stat("keys") == 1, "the node did not finish the abandoned put"); // its reply is on the way

        // Hold the next request back as well: the only reply the client can find meanwhile is the
        // abandoned one, and it must not take that (or the wake-up that came with it) for its own.
        Task<bool> delete;
        using (partition.Lock.EnterScope())
        {
            delete = Task.Run(() => _client.Delete("slow"));
            WaitFor(() => _node.Stat("deletes") == 1 || delete.IsCompleted, "the delete never reached the node");
            Assert.False(delete.IsCompleted, $"the delete ended while the node held its reply back: {delete.Exception?.InnerException?.Message}");
        }
        Assert.True(await delete);

        Assert.False(await _client.DeleteAsync("absent"u8.ToArray()));
        _client.Put("next", "fine");
        Assert.Equal("fine"u8.ToArray(), _client.Get("next"));
        Assert.Null(_client.Get("slow"));
    }

    [Fact]
    public async Task PutCancelledBeforeItStartsNeverReachesTheNode()
    {
        long puts = _node.Stat("puts");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await _client.PutAsync("k"u8.ToArray(), "v"u8.ToArray(), new CancellationToken(canceled: true)));

        Assert.Equal(puts, _node.Stat("puts"));
        Assert.Null(_client.Get("k"));
        _client.Put("k", "v");
        Assert.Equal("v"u8.ToArray(), _client.Get("k"));
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }
}

public sealed class CancellationOverMailboxTests() : CancellationTests(TestTransport.Mailbox);

public sealed class CancellationOverSocketTests() : CancellationTests(TestTransport.Socket);
