using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.Server;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>Three nodes in this process (<see cref="InProcessCluster"/>); clients connect through seeds and route by the map.</summary>
public sealed class ClusterTests : IDisposable
{
    readonly InProcessCluster _cluster = new();

    static byte[] K(int i) => Encoding.UTF8.GetBytes($"cluster-key-{i}");

    [Fact]
    public void EveryKeyLandsOnItsOwnerAndReadsAndMultiGetSpanAllNodes()
    {
        using var client = _cluster.Connect(_cluster.Seeds(1)); // any one node is enough as a seed
        Assert.Equal(1, client.ClusterEpoch);
        for (int i = 0; i < 300; i++) client.Put(K(i), Encoding.UTF8.GetBytes($"v{i}"));
        client.PutMany([.. Enumerable.Range(300, 300).Select(i => (K(i), Encoding.UTF8.GetBytes($"v{i}")))]);

        // Each node's own (local, shared-memory) view holds exactly the keys it owns.
        var locals = _cluster.Nodes.Select(n => n.Node.Connect()).ToList();
        try
        {
            for (int i = 0; i < 600; i++)
            {
                int owner = _cluster.IndexOf(_cluster.Map.OwnerOf(K(i)).Id);
                for (int n = 0; n < 3; n++)
                    Assert.True((locals[n].Get(K(i)) is not null) == (n == owner), $"key {i}: node{n + 1} {(n == owner ? "lacks it" : "has it")}; owner node{owner + 1}");
            }
        }
        finally
        {
            foreach (var l in locals) l.Dispose();
        }
        Assert.All(_cluster.Nodes, n => Assert.True(n.Node.Stat("keys") > 100, $"{n.Node.Node.Options.NodeId} holds {n.Node.Stat("keys")} keys: the slots are not spread"));

        for (int i = 0; i < 600; i += 7) Assert.Equal($"v{i}", Encoding.UTF8.GetString(client.Get(K(i))!));
        var keys = Enumerable.Range(0, 600).Select(K).Append(Encoding.UTF8.GetBytes("never-written")).ToList();
        var values = client.MultiGet(keys);
        for (int i = 0; i < 600; i++) Assert.Equal($"v{i}", Encoding.UTF8.GetString(values[i]!));
        Assert.Null(values[600]);
        Assert.True(client.Delete(K(5)));
        Assert.Null(client.Get(K(5)));
        Assert.Equal(0, _cluster.Nodes.Sum(n => n.Node.Stat("fallback_gets"))); // every GET was one-sided, on its owner
    }

    [Fact]
    public void AClusterFileServesAsTheSeedList()
    {
        string file = Path.Combine(_cluster.Directory, "seeds.json");
        File.WriteAllText(file, _cluster.Map.ToJson());
        using var client = KvClient.Connect("cluster:" + file, new KvClientOptions { Credential = _cluster.Token });
        client.Put("via-file", "yes");
        Assert.Equal("yes"u8.ToArray(), client.Get("via-file"));
        Assert.Equal(1, client.ClusterEpoch);
        var missing = Assert.Throws<InvalidDataException>(() => KvClient.Connect("cluster:" + Path.Combine(_cluster.Directory, "no-such-file.json")));
        Assert.Contains("cannot be read", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClientWithAnOldMapIsRedirectedWithoutErrors()
    {
        using var stale = _cluster.Connect(_cluster.Seeds(0, 1, 2));
        // Every key of one slot of node1, then the slot goes to node2 at epoch 2.
        int slot = _cluster.Map.Owners.Select((owner, p) => (owner, p)).First(x => x.owner == "node1").p;
        var keys = Enumerable.Range(0, 20_000).Select(K).Where(k => _cluster.Map.SlotOf(k) == slot).Take(20).ToList();
        Assert.NotEmpty(keys);
        var moved = _cluster.Map.WithOwner(slot, "node2");
        foreach (var (node, _) in _cluster.Nodes) node.Node.AdoptCluster(moved);

        foreach (var k in keys) stale.Put(k, "after-move"u8.ToArray()); // node1 says WrongSlot; the client follows
        Assert.Equal(2, stale.ClusterEpoch);
        using var node2 = _cluster.Nodes[1].Node.Connect();
        foreach (var k in keys)
        {
            Assert.Equal("after-move"u8.ToArray(), stale.Get(k));
            Assert.Equal("after-move"u8.ToArray(), node2.Get(k));
        }
        Assert.Equal(1, _cluster.Nodes[0].Node.Stat("wrong_slot")); // one redirect; from then on the client knew the new map
    }

    [Fact]
    public void ASlotMovesUnderLoadWithoutLosingAnAcknowledgedWriteOrReadingBackInTime()
    {
        int slot = _cluster.Map.Owners.Select((owner, p) => (owner, p)).First(x => x.owner == "node1").p;
        var moving = Enumerable.Range(0, 50_000).Select(K).Where(k => _cluster.Map.SlotOf(k) == slot).Take(40).ToList();
        var staying = Enumerable.Range(0, 200).Select(K).Where(k => _cluster.Map.SlotOf(k) != slot).Take(40).ToList();
        var keys = moving.Concat(staying).ToList();
        var acked = new long[keys.Count];     // the last value each key's writer saw acknowledged
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var writerClient = _cluster.Connect(_cluster.Seeds(0));
        using var readerClient = _cluster.Connect(_cluster.Seeds(2));
        for (int i = 0; i < keys.Count; i++)
        {
            writerClient.Put(keys[i], BitConverter.GetBytes(1L));
            acked[i] = 1;
        }
        using var stop = new CancellationTokenSource();
        long reads = 0, writes = 0;
        // An operation overlaps the move when it began before the move ended and ended after it began.
        int moveBegan = 0, moveEnded = 0;
        long writesDuring = 0, readsDuring = 0;
        var threads = new List<Thread>();
        for (int w = 0; w < 2; w++)
        {
            int first = w;
            threads.Add(new Thread(() =>
            {
                try
                {
                    for (long round = 2; !stop.IsCancellationRequested && round < 1_000_000; round++)
                    {
                        for (int i = first; i < keys.Count; i += 2)
                        {
                            bool beforeEnd = Volatile.Read(ref moveEnded) == 0;
                            writerClient.Put(keys[i], BitConverter.GetBytes(round));
                            Volatile.Write(ref acked[i], round);
                            Interlocked.Increment(ref writes);
                            if (beforeEnd && Volatile.Read(ref moveBegan) != 0) Interlocked.Increment(ref writesDuring);
                        }
                    }
                }
                catch (Exception e)
                {
                    problems.Enqueue($"writer: {e.GetType().Name}: {e.Message}");
                }
            }));
        }
        for (int r = 0; r < 4; r++) // several readers share one client: one refreshes what the others then read
        {
            int seed = r;
            threads.Add(new Thread(() =>
            {
                var random = new Random(seed);
                try
                {
                    while (!stop.IsCancellationRequested && reads < 5_000_000)
                    {
                        int i = random.Next(keys.Count);
                        long floor = Volatile.Read(ref acked[i]);
                        bool beforeEnd = Volatile.Read(ref moveEnded) == 0;
                        byte[]? value = readerClient.Get(keys[i]);
                        long seen = value is null ? 0 : BitConverter.ToInt64(value);
                        if (seen < floor) problems.Enqueue($"key {i} read {seen} after {floor} was acknowledged");
                        Interlocked.Increment(ref reads);
                        if (beforeEnd && Volatile.Read(ref moveBegan) != 0) Interlocked.Increment(ref readsDuring);
                    }
                }
                catch (Exception e)
                {
                    problems.Enqueue($"reader: {e.GetType().Name}: {e.Message}");
                }
            }));
        }
        // The load runs before the move and after it until each side has done its count (the clients
        // then follow the redirects); the deadline bounds a hang only.
        var deadline = Stopwatch.StartNew();
        void AwaitLoad(long writesAtLeast, long readsAtLeast, string when)
        {
            while ((Interlocked.Read(ref writes) < writesAtLeast || Interlocked.Read(ref reads) < readsAtLeast) && problems.IsEmpty)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), $"{writes} writes and {reads} reads {when}: the load made no progress");
                Thread.Sleep(1);
            }
        }
        MoveReport report;
        try
        {
            foreach (var t in threads) t.Start();
            AwaitLoad(200, 200, "before the move");
            Volatile.Write(ref moveBegan, 1);
            report = ((Admin.IAdminNode)_cluster.Nodes[0].Node.Node).MoveSlot(slot, "node2");
            Volatile.Write(ref moveEnded, 1);
            AwaitLoad(Interlocked.Read(ref writes) + 200, Interlocked.Read(ref reads) + 200, "after the move");
        }
        finally
        {
            stop.Cancel();
        }
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a load thread did not stop");

        Assert.Empty(problems);
        Assert.Equal(2, report.Epoch);
        Assert.Empty(report.NodesNotTold);
        Assert.True(writesDuring > 0 && readsDuring > 0, $"writes during the move {writesDuring}, reads {readsDuring}: the load did not overlap the move");
        Assert.Equal(moving.Count, report.KeysCopied);
        Assert.True(report.ScanMs > 0 && report.RetireMs > 0 && report.ScanMs + report.RetireMs <= report.ElapsedMs,
            $"phases: scanning {report.ScanMs} ms and retiring {report.RetireMs} ms of {report.ElapsedMs} ms");
        Assert.All(_cluster.Nodes, n => Assert.Equal(2, n.Node.Node.Cluster!.Epoch));
        using var fresh = _cluster.Connect(_cluster.Seeds(1));
        using var node1 = _cluster.Nodes[0].Node.Connect();
        using var node2 = _cluster.Nodes[1].Node.Connect();
        for (int i = 0; i < keys.Count; i++)
        {
            Assert.Equal(acked[i], BitConverter.ToInt64(fresh.Get(keys[i])!));
            Assert.Equal(acked[i], BitConverter.ToInt64(readerClient.Get(keys[i])!));
            if (i < moving.Count)
            {
                Assert.Null(node1.Get(keys[i]));                                  // the old copy is gone
                Assert.Equal(acked[i], BitConverter.ToInt64(node2.Get(keys[i])!)); // the new owner has it
            }
        }
    }

    [Fact]
    public void ADownNodeFailsFastNamingItselfAndTheOthersKeepServing()
    {
        using var client = _cluster.Connect(_cluster.Seeds(0));
        for (int i = 0; i < 200; i++) client.Put(K(i), "v"u8.ToArray());
        _cluster.Stop(2);

        int failed = 0, served = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 200; i++)
        {
            if (_cluster.Map.OwnerOf(K(i)).Id == "node3")
            {
                var e = Assert.ThrowsAny<KvConnectionException>(() => client.Put(K(i), "w"u8.ToArray()));
                Assert.Contains("node node3", e.Message, StringComparison.Ordinal);
                failed++;
            }
            else
            {
                client.Put(K(i), "w"u8.ToArray());
                Assert.Equal("w"u8.ToArray(), client.Get(K(i)));
                served++;
            }
            if (failed == 5) break;
        }
        Assert.True(failed > 0 && served > 0, $"failed {failed}, served {served}");
        // Each failure took at most the client's 2 s timeout, not a hang.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5 * failed + 5), $"{failed} failures took {clock.Elapsed}");
    }

    [Fact]
    public void AMapWithAnUnknownOwnerOrABadAddressIsRefusedWithTheReason()
    {
        var unknown = Assert.Throws<InvalidDataException>(() => ClusterMap.Parse("""{ "epoch": 1, "slots": 2, "nodes": [ { "id": "a", "ucx": "h:1" } ], "owners": ["a", "b"] }"""));
        Assert.Contains("'b'", unknown.Message, StringComparison.Ordinal);
        var address = Assert.Throws<InvalidDataException>(() => ClusterMap.Parse("""{ "epoch": 1, "slots": 2, "nodes": [ { "id": "a", "ucx": "no-port" } ] }"""));
        Assert.Contains("HOST:PORT", address.Message, StringComparison.Ordinal);
        var twice = Assert.Throws<InvalidDataException>(() => ClusterMap.Parse("""{ "epoch": 1, "slots": 2, "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "a", "ucx": "h:2" } ] }"""));
        Assert.Contains("twice", twice.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => ClusterMap.Parse("""{ "epoch": 1, "slots": 2, "nodes": [], "extra": 1 }"""));
    }

    public void Dispose() => _cluster.Dispose();
}
