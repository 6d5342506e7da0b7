using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>A client that outlives its node: after the node restarts under the same name, it must read the new node's regions.</summary>
public abstract class NodeRestartTests(TestTransport writes) : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _dataDirectory = TestNode.NewDataDirectory();

    [Fact]
    public void ClientReconnectingToARestartedNodeReadsTheNewNodeNotTheOldMapping()
    {
        using var client = RestartUnderneath(out var second);
        using (second)
        {
            // The first request finds the old connection gone; the next one reconnects.
            Assert.Throws<KvConnectionException>(() => client.Put("k", "new"));
            client.Put("k", "new");

            Assert.Equal("new"u8.ToArray(), client.Get("k"));
            Assert.Null(client.Get("only-in-the-old-node"));
            Assert.Equal(1, second.Stat("keys"));
            second.StopAndCheckRemoved();
        }
    }

    [Fact]
    public void ClientReconnectingAfterTheRestartedNodeGrewFollowsItsGenerations()
    {
        using var client = RestartUnderneath(out var second);
        using (second)
        {
            using (var writer = second.Connect())
            {
                for (int i = 0; i < 2_000; i++) writer.Put($"key-{i}", $"value-{i}");
            }
            Assert.True(second.Stat("grows") > 0, "the restarted node never grew");

            Assert.Throws<KvConnectionException>(() => client.Delete("k"));
            Assert.True(client.Delete("key-0"));
            for (int i = 1; i < 2_000; i++) Assert.Equal($"value-{i}", System.Text.Encoding.UTF8.GetString(client.Get($"key-{i}")!));
            Assert.Null(client.Get("k"));
        }
    }

    [Fact]
    public void ReadOnlyClientWhoseRefreshFoundTheNodeGoneReconnectsOnTheNextRead()
    {
        using var first = new TestNode(name: _name, dataDirectory: _dataDirectory);
        using var client = first.Connect(writes);
        client.Put("k", "old");
        foreach (var p in first.Node.Partitions)
        {
            lock (p.Lock) Assert.True(p.Writer.Grow()); // the client's mappings are now retired generations
        }
        first.StopAndCheckRemoved();

        // The read finds its region retired and asks the node where the new one is: nobody answers.
        Assert.Throws<KvConnectionException>(() => client.Get("k"));

        using var second = new TestNode(name: _name); // a data directory of its own: an empty node, not a recovered one
        Assert.Null(client.Get("k"));
        second.Node.Put("k"u8, "new"u8);
        Assert.Equal("new"u8.ToArray(), client.Get("k"));
        second.StopAndCheckRemoved();
    }

    /// <summary>Connects a client to a node holding "k" and "only-in-the-old-node", then replaces the node with an empty one of the same name.</summary>
    KvClient RestartUnderneath(out TestNode second)
    {
        var client = ConnectToFirstNode();
        try
        {
            // Same name, data directory of its own: an empty node rather than one that recovers the first's keys.
            second = new TestNode(o => o with { Partitions = 2, InitialBucketCount = 16, InitialExtentBytes = 64 << 10 }, _name);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    KvClient ConnectToFirstNode()
    {
        using var first = new TestNode(o => o with { Partitions = 2, InitialBucketCount = 16, InitialExtentBytes = 64 << 10 }, _name, _dataDirectory);
        var client = first.Connect(writes);
        client.Put("k", "old");
        client.Put("only-in-the-old-node", "old");
        Assert.Equal("old"u8.ToArray(), client.Get("k"));
        first.StopAndCheckRemoved();
        return client;
    }

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);
}

public sealed class NodeRestartOverMailboxTests() : NodeRestartTests(TestTransport.Mailbox);

public sealed class NodeRestartOverSocketTests() : NodeRestartTests(TestTransport.Socket);
