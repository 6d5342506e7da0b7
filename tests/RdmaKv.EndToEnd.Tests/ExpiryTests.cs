using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Keys that expire, through the real client and node: absent once their time has passed (local
/// one-sided reads, UCX one-sided reads and the node's own GET alike), removed by the sweep, kept
/// across a restart, and carried to backups and by slot moves.
/// </summary>
public sealed class ExpiryTests
{
    static byte[] K(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData(TestTransport.Mailbox)]
    [InlineData(TestTransport.Ucx)]
    public void AKeyIsPresentUntilItsExpiryAndAbsentAfterItAndTheSweepRemovesIt(TestTransport transport)
    {
        using var node = new TestNode(o => o with { ExpirySweepInterval = TimeSpan.FromMilliseconds(100) });
        using var client = node.Connect(transport);
        var expiresAt = DateTimeOffset.UtcNow.AddMilliseconds(1500);
        client.Put(K("brief"), K("value"), expiresAt);
        client.Put(K("kept"), K("value"));
        Assert.True(client.TryGetExpiry(K("brief"), out var told));
        Assert.Equal(expiresAt.ToUnixTimeMilliseconds(), told!.Value.ToUnixTimeMilliseconds());
        Assert.True(client.TryGetExpiry(K("kept"), out var never));
        Assert.Null(never);
        long keysBefore = node.Node.Stats()[StatNames.Keys];

        var buffer = new byte[16];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            long before = Expiry.Now();
            byte[]? value = client.Get(K("brief"));
            bool tried = client.TryGet(K("brief"), buffer, out _);
            if (value is null && !tried) break;
            // Present (by either read) only while this clock has not passed the expiry.
            Assert.True(before < expiresAt.ToUnixTimeMilliseconds(), $"read at {before}, expiry {expiresAt.ToUnixTimeMilliseconds()}: still there");
            Assert.True(DateTime.UtcNow < deadline, "the key never expired");
            Thread.Sleep(20);
        }
        Assert.True(Expiry.Now() >= expiresAt.ToUnixTimeMilliseconds(), "absent before its expiry");
        Assert.False(client.TryGetExpiry(K("brief"), out _));
        Assert.Null(client.MultiGet([K("brief"), K("kept")])[0]);
        Assert.Equal(K("value"), client.Get(K("kept")));

        while (node.Node.ExpiredRemoved == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the sweep never removed the expired key");
            Thread.Sleep(20);
        }
        Assert.Equal(keysBefore - 1, node.Node.Stats()[StatNames.Keys]);
        Assert.False(client.Delete(K("brief")));
    }

    [Fact]
    public void ExpiriesSurviveARestartAndAKeyThatExpiredWhileTheNodeWasDownStaysAbsent()
    {
        string data = TestNode.NewDataDirectory();
        string name = TestNode.UniqueName();
        var far = DateTimeOffset.UtcNow.AddHours(1);
        long soon;
        try
        {
            using (var node = new TestNode(o => o with { ExpirySweepInterval = TimeSpan.Zero }, name, data))
            using (var client = node.Connect())
            {
                client.Put(K("far"), K("1"), far);
                soon = DateTimeOffset.UtcNow.AddMilliseconds(300).ToUnixTimeMilliseconds();
                client.Put(K("soon"), K("2"), DateTimeOffset.FromUnixTimeMilliseconds(soon));
                client.Put(K("plain"), K("3"));
            }
            while (Expiry.Now() <= soon) Thread.Sleep(20);
            using (var node = new TestNode(o => o with { ExpirySweepInterval = TimeSpan.Zero }, name, data))
            using (var client = node.Connect())
            {
                Assert.True(client.TryGetExpiry(K("far"), out var at));
                Assert.Equal(far.ToUnixTimeMilliseconds(), at!.Value.ToUnixTimeMilliseconds());
                Assert.Null(client.Get(K("soon")));
                Assert.False(client.TryGetExpiry(K("soon"), out _));
                Assert.True(client.TryGetExpiry(K("plain"), out var none));
                Assert.Null(none);
                Assert.Equal(1, node.Node.SweepExpired(1 << 20));
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void TheBackupHoldsTheExpiryAndAMovedSlotTakesItAlong()
    {
        using var cluster = new InProcessCluster(replicas: 2);
        using var client = cluster.Connect(cluster.Seeds(0));
        var map = cluster.Map;
        byte[] key = Enumerable.Range(0, 1000).Select(i => K($"key-{i}")).First(k => map.Owners[map.SlotOf(k)] == "node1");
        int slot = map.SlotOf(key);
        var expiresAt = DateTimeOffset.UtcNow.AddHours(2);
        client.Put(key, K("v"), expiresAt);
        long at = expiresAt.ToUnixTimeMilliseconds();

        var backup = cluster.Nodes[cluster.IndexOf(map.BackupsOf(slot)[0])].Node.Node;
        Assert.Equal(StoreStatus.Ok, backup.Read(key, out var copy, out long backupAt));
        Assert.Equal(K("v"), copy);
        Assert.Equal(at, backupAt);

        string target = map.Nodes.Select(n => n.Id).First(id => !map.Holds(slot, id));
        cluster.Nodes[0].Node.Node.MoveSlot(slot, target);
        Assert.Equal(StoreStatus.Ok, cluster.Nodes[cluster.IndexOf(target)].Node.Node.Read(key, out var moved, out long movedAt));
        Assert.Equal(K("v"), moved);
        Assert.Equal(at, movedAt);
        Assert.True(client.TryGetExpiry(key, out var seen));
        Assert.Equal(at, seen!.Value.ToUnixTimeMilliseconds());
    }
}
