using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Cluster;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>Three nodes in this process with two copies of every slot (a static map: no etcd, no failover).</summary>
public sealed class ReplicationTests : IDisposable
{
    readonly InProcessCluster _cluster = new(replicas: 2);

    static byte[] K(int i) => Encoding.UTF8.GetBytes($"replica-key-{i}");

    /// <summary>What each node's own (shared-memory) view holds of <paramref name="key"/>.</summary>
    List<byte[]?> Copies(byte[] key)
    {
        var copies = new List<byte[]?>();
        foreach (var (node, _) in _cluster.Nodes)
        {
            using var local = node.Connect();
            copies.Add(local.Get(key));
        }
        return copies;
    }

    [Fact]
    public void AFencedBackupSaysHowLongAgoItLastGrantedTheNodeALeaseAndGrantsItNoMore()
    {
        var since = System.Diagnostics.Stopwatch.StartNew(); // the nodes started before this
        using var peer = PeerSession.Open(_cluster.Map.Node("node2")!, _cluster.ClusterToken, TimeSpan.FromSeconds(5));
        var beforeGrant = System.Diagnostics.Stopwatch.StartNew();
        peer.Grant(_cluster.Map.Epoch, "node1");

        var granted = peer.Fence(_cluster.Map.Epoch, "node1");
        var neverGranted = peer.Fence(_cluster.Map.Epoch, "node3");

        // The controller waits one TTL after the newest grant: the grant it reports is the one just made ...
        Assert.NotNull(granted);
        Assert.InRange(granted.Value, TimeSpan.Zero, beforeGrant.Elapsed);
        // ... and a node it never granted gets the time since the backup started, which was before any grant it forgot.
        Assert.NotNull(neverGranted);
        Assert.True(neverGranted.Value >= since.Elapsed - beforeGrant.Elapsed, $"{neverGranted} since start, test ran {since.Elapsed}");
        var refused = Assert.Throws<PeerRefusedException>(() => peer.Grant(_cluster.Map.Epoch, "node1"));
        Assert.Equal(StoreStatus.WrongSlot, refused.Status);
    }

    [Fact]
    public void EveryAcknowledgedWriteIsOnItsPrimaryAndItsBackupAndNowhereElse()
    {
        using var client = _cluster.Connect(_cluster.Seeds(0));
        for (int i = 0; i < 200; i++) client.Put(K(i), Encoding.UTF8.GetBytes($"v{i}"));
        client.PutMany([.. Enumerable.Range(200, 100).Select(i => (K(i), Encoding.UTF8.GetBytes($"v{i}")))]);
        for (int i = 0; i < 300; i += 3) Assert.True(client.Delete(K(i)));

        var map = _cluster.Map;
        for (int i = 0; i < 300; i++)
        {
            int slot = map.SlotOf(K(i));
            var copies = Copies(K(i));
            for (int n = 0; n < 3; n++)
            {
                bool holds = map.Holds(slot, map.Nodes[n].Id);
                string? expected = holds && i % 3 != 0 ? $"v{i}" : null;
                Assert.True(expected == (copies[n] is { } v ? Encoding.UTF8.GetString(v) : null),
                    $"key {i} (slot {slot}, primary {map.Owners[slot]}, backup {map.BackupsOf(slot)[0]}): node{n + 1} has {(copies[n] is null ? "nothing" : Encoding.UTF8.GetString(copies[n]!))}, expected {expected ?? "nothing"}");
            }
        }
        Assert.Equal(300 + 100, _cluster.Nodes.Sum(n => n.Node.Stat("replica_writes")));
    }

    [Fact]
    public void RacingWritersLeaveThePrimaryAndTheBackupWithTheSameValueOfEveryKey()
    {
        const int Keys = 16;
        var clients = Enumerable.Range(0, 4).Select(_ => _cluster.Connect(_cluster.Seeds(0, 1, 2))).ToList();
        try
        {
            var racers = clients.Select((client, thread) => Racer.Start($"writer {thread}", () =>
            {
                for (int round = 0; round < 150; round++)
                {
                    int k = (round * 7 + thread) % Keys;
                    if (round % 10 == 9) client.Delete(K(k));
                    else client.Put(K(k), Encoding.UTF8.GetBytes($"t{thread}-r{round}"));
                }
            })).ToList();
            foreach (var racer in racers) racer.Join(TimeSpan.FromMinutes(2));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
        var map = _cluster.Map;
        for (int k = 0; k < Keys; k++)
        {
            int slot = map.SlotOf(K(k));
            var copies = Copies(K(k));
            int primary = _cluster.IndexOf(map.Owners[slot]), backup = _cluster.IndexOf(map.BackupsOf(slot)[0]);
            Assert.Equal(copies[primary], copies[backup]);
        }
    }

    [Fact]
    public void WithABackupDownItsSlotsWritesFailAsUnavailableAndThePrimaryKeepsTheOldValue()
    {
        var map = _cluster.Map;
        using var client = _cluster.Connect(_cluster.Seeds(0));
        int down = 2;
        string downId = map.Nodes[down].Id;
        var backedByDown = Enumerable.Range(0, 400).First(i => map.BackupsOf(map.SlotOf(K(i)))[0] == downId);
        var notTouching = Enumerable.Range(0, 400).First(i => !map.Holds(map.SlotOf(K(i)), downId));
        client.Put(K(backedByDown), "before"u8.ToArray());

        _cluster.Stop(down);

        var primary = _cluster.Nodes[_cluster.IndexOf(map.Owners[map.SlotOf(K(backedByDown))])].Node;
        long puts = primary.Stat(StatNames.Puts);
        var failed = Assert.Throws<KvException>(() => client.Put(K(backedByDown), "after"u8.ToArray()));
        Assert.Equal(StoreStatus.Unavailable, failed.Status);
        // Its outcome is unknown (a backup may have applied it), so it is not sent again: a later
        // copy of it could undo a write made in between, which readers saw.
        Assert.Equal(puts + 1, primary.Stat(StatNames.Puts));
        Assert.Equal("before"u8.ToArray(), client.Get(K(backedByDown)));
        client.Put(K(notTouching), "fine"u8.ToArray()); // slots the stopped node does not hold go on
        Assert.Equal("fine"u8.ToArray(), client.Get(K(notTouching)));
        Assert.True(_cluster.Nodes[0].Node.Stat("replica_failures") + _cluster.Nodes[1].Node.Stat("replica_failures") > 0);
    }

    [Fact]
    public void APromotedBackupServesEveryWriteThePrimaryAcknowledged()
    {
        var map = _cluster.Map;
        using (var client = _cluster.Connect(_cluster.Seeds(0)))
            for (int i = 0; i < 300; i++) client.Put(K(i), Encoding.UTF8.GetBytes($"v{i}"));
        // Node 1's slots go to their backups: a failover done by hand, under the static map.
        var edit = map.Edit();
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            if (map.Owners[slot] != "node1") continue;
            edit.Owners[slot] = map.BackupsOf(slot)[0];
            edit.Backups[slot].Clear();
        }
        var promoted = edit.Build();
        _cluster.Stop(0);
        foreach (int n in new[] { 1, 2 })
        {
            using var peer = PeerSession.Open(promoted.Nodes[n], _cluster.ClusterToken, TimeSpan.FromSeconds(10));
            peer.AdoptMap(promoted);
        }

        using var reader = _cluster.Connect(_cluster.Seeds(1, 2));
        for (int i = 0; i < 300; i++) Assert.Equal($"v{i}", Encoding.UTF8.GetString(reader.Get(K(i)) ?? "(missing)"u8.ToArray()));
    }

    public void Dispose() => _cluster.Dispose();
}
