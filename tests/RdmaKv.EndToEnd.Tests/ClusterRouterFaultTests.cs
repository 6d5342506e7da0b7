using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Server;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// The client's cluster router when things go wrong: redirects that never settle, a dead seed,
/// and a map that still names an old owner that is down.
/// </summary>
public sealed class ClusterRouterFaultTests : IDisposable
{
    readonly InProcessCluster _cluster = new();

    /// <summary>A slot <paramref name="owner"/> holds at epoch 1, and <paramref name="count"/> of its keys.</summary>
    (int Slot, List<byte[]> Keys) SlotOf(string owner, int count)
    {
        int slot = _cluster.Map.Owners.Select((o, p) => (o, p)).First(x => x.o == owner).p;
        var keys = Enumerable.Range(0, 100_000).Select(i => Encoding.UTF8.GetBytes($"router-key-{i}"))
            .Where(k => _cluster.Map.SlotOf(k) == slot).Take(count).ToList();
        return (slot, keys);
    }

    StorageNode Node(int index) => _cluster.Nodes[index].Node.Node;

    [Fact]
    public void RedirectsThatNeverSettleEndInWrongSlotAndTheNextCallWorksOnceTheNodesAgree()
    {
        var (slot, keys) = SlotOf("node1", 1);
        using var client = _cluster.Connect(_cluster.Seeds(0));
        client.Put(keys[0], "before"u8.ToArray());
        // node1 says node2 owns the slot (epoch 2), node2 says node1 does (epoch 3): every
        // redirect leads back, so the client must give up after its retries, not loop.
        var toNode2 = _cluster.Map.WithOwner(slot, "node2");
        var toNode1 = toNode2.WithOwner(slot, "node1");
        Node(0).AdoptCluster(toNode2);
        Node(1).AdoptCluster(toNode1);
        var put = Assert.Throws<KvException>(() => client.Put(keys[0], "lost"u8.ToArray()));
        Assert.Equal(StoreStatus.WrongSlot, put.Status);
        var delete = Assert.Throws<KvException>(() => client.Delete(keys[0]));
        Assert.Equal(StoreStatus.WrongSlot, delete.Status);
        // ClusterRouter.MovedRetries: 10 redirects per call.
        Assert.True(Node(0).Stats()["wrong_slot"] + Node(1).Stats()["wrong_slot"] > 10, "the client gave up before it had followed its retries");

        var agreed = toNode1.WithOwner(slot, "node2");
        foreach (var (node, _) in _cluster.Nodes) node.Node.AdoptCluster(agreed);
        client.Put(keys[0], "after"u8.ToArray());
        Assert.Equal("after"u8.ToArray(), client.Get(keys[0]));
        Assert.Equal(agreed.Epoch, client.ClusterEpoch);
    }

    [Fact]
    public void WhenTheFirstSeedIsDeadTheClientConnectsThroughTheNext()
    {
        var keys = Enumerable.Range(0, 60).Select(i => Encoding.UTF8.GetBytes($"seed-key-{i}")).ToList();
        // A port nothing listens on, then a member.
        using (var client = _cluster.Connect($"ucx://127.0.0.1:{ProcessOutput.FreeLoopbackPort()},{_cluster.Map.Nodes[1].Ucx}"))
        {
            foreach (var k in keys) client.Put(k, k);
            foreach (var k in keys) Assert.Equal(k, client.Get(k));
            Assert.Equal(1, client.ClusterEpoch);
        }
        // A member that is down, then another: what the live nodes own is served, the rest fails naming its node.
        _cluster.Stop(0);
        using var second = _cluster.Connect(_cluster.Seeds(0, 1));
        foreach (var k in keys)
        {
            if (_cluster.Map.OwnerOf(k).Id == "node1")
            {
                var e = Assert.ThrowsAny<KvConnectionException>(() => second.Get(k));
                Assert.Contains("node node1", e.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(k, second.Get(k));
            }
        }
        var none = Assert.ThrowsAny<KvConnectionException>(() => _cluster.Connect($"ucx://127.0.0.1:{ProcessOutput.FreeLoopbackPort()},{_cluster.Map.Nodes[0].Ucx}"));
        Assert.Contains("no seed node answered", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWriterWhoseMapNamesAnOldOwnerThatIsDownFindsTheNewOwner()
    {
        var (slot, keys) = SlotOf("node1", 10);
        using var client = _cluster.Connect(_cluster.Seeds(1));
        foreach (var k in keys) client.Put(k, "before"u8.ToArray());
        var report = Node(0).MoveSlot(slot, "node2");
        Assert.Empty(report.NodesNotTold);
        _cluster.Stop(0); // the old owner goes away before the client heard of the move
        Assert.Equal(1, client.ClusterEpoch);

        // The client cannot reach node1, asks the others for the map, and follows it to node2.
        foreach (var k in keys) client.Put(k, "after"u8.ToArray());
        Assert.Equal(report.Epoch, client.ClusterEpoch);
        foreach (var k in keys) Assert.Equal("after"u8.ToArray(), client.Get(k));
        Assert.True(client.Delete(keys[0]));
    }

    [Fact]
    public void AReaderWhoseMapNamesAnOldOwnerThatIsDownFindsTheNewOwner()
    {
        var (slot, keys) = SlotOf("node1", 10);
        using var client = _cluster.Connect(_cluster.Seeds(1));
        foreach (var k in keys) client.Put(k, k);
        using var reader = _cluster.Connect(_cluster.Seeds(2));
        Assert.Equal(keys[0], reader.Get(keys[0]));
        Node(0).MoveSlot(slot, "node2");
        _cluster.Stop(0);

        foreach (var k in keys) Assert.Equal(k, reader.Get(k));
        var values = reader.MultiGet(keys);
        for (int i = 0; i < keys.Count; i++) Assert.Equal(keys[i], values[i]);
    }

    public void Dispose() => _cluster.Dispose();
}
