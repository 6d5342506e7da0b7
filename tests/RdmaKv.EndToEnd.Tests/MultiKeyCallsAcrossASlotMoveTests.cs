using System.Text;
using RdmaKv.Client;
using RdmaKv.Tests;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// MultiGet and PutMany over <c>ucx://</c> whose keys span every slot, while the CLI moves
/// one slot between node processes, and from clients whose map is still the one from before
/// the move: every existing key reads back with its value (never null, never an exception), and
/// every pair of an acknowledged PutMany lands where the new map says.
/// </summary>
public sealed class MultiKeyCallsAcrossASlotMoveTests(ITestOutputHelper output) : IDisposable
{
    const int Moved = 3;
    static readonly TimeSpan MovePatience = TimeSpan.FromMinutes(3);
    readonly ProcessCluster _cluster = new(3, ["node1", "node1", "node1", "node1", "node1", "node1", "node1", "node1", "node2", "node2", "node3", "node3"]);

    KvClient Connect(int seed) => _cluster.Connect(_cluster.Seeds(seed), TimeSpan.FromSeconds(30));

    /// <summary><paramref name="count"/> keys named <paramref name="prefix"/>-N, at least a tenth of them in the moved slot.</summary>
    List<byte[]> KeysSpanningTheSlots(string prefix, int count)
    {
        var map = _cluster.Map;
        var all = Enumerable.Range(0, 100_000).Select(i => Encoding.UTF8.GetBytes($"{prefix}-{i}"));
        var moved = all.Where(k => map.SlotOf(k) == Moved).Take(count / 10);
        var keys = all.Where(k => map.SlotOf(k) != Moved).Take(count - (count / 10)).Concat(moved).ToList();
        Assert.Equal(map.SlotCount, keys.Select(k => map.SlotOf(k)).Distinct().Count());
        return keys;
    }

    [Fact]
    public void MultiGetAndPutManyReturnAndLandEveryKeyWhileASlotMovesAndFromAClientThatMissedTheMove()
    {
        var readKeys = KeysSpanningTheSlots("read", 600);
        var writeKeys = KeysSpanningTheSlots("write", 300);
        using var loader = Connect(0);
        // Bulk in the moved slot, so that the copy lasts while the racing calls go on.
        var map = _cluster.Map;
        var bulk = Enumerable.Range(0, 100_000).Select(i => Encoding.UTF8.GetBytes($"bulk-{i}")).Where(k => map.SlotOf(k) == Moved).Take(1500).ToList();
        foreach (var chunk in bulk.Chunk(100)) loader.PutMany([.. chunk.Select(k => (k, new byte[8 << 10]))]);
        loader.PutMany([.. readKeys.Select(k => (k, Value(k, 0)))]);

        // Clients that take part before the move and not during it: their map stays at epoch 1.
        using var staleReader = Connect(1);
        using var staleWriter = Connect(2);
        Assert.All(staleReader.MultiGet(readKeys), (v, i) => Assert.Equal(Value(readKeys[i], 0), v));
        staleWriter.PutMany([.. writeKeys.Select(k => (k, Value(k, 0)))]);

        using var reader = Connect(0);
        using var writer = Connect(2);
        var acknowledged = writeKeys.ToDictionary(Encoding.UTF8.GetString, k => Value(k, 0));
        int multiGets = 0, putManys = 0;
        bool moveDone = false;
        var racingReader = Racer.Start("racing MultiGet", () =>
        {
            for (bool last = false; !last;)
            {
                last = Volatile.Read(ref moveDone);
                var values = reader.MultiGet(readKeys);
                for (int i = 0; i < readKeys.Count; i++)
                    Assert.True(Value(readKeys[i], 0).AsSpan().SequenceEqual(values[i]), $"MultiGet {multiGets}: {Encoding.UTF8.GetString(readKeys[i])} read {(values[i] is null ? "null" : "another value")}");
                multiGets++;
            }
        });
        var racingWriter = Racer.Start("racing PutMany", () =>
        {
            for (int round = 1, last = 0; last == 0; round++)
            {
                last = Volatile.Read(ref moveDone) ? 1 : 0;
                foreach (var chunk in writeKeys.Chunk(writeKeys.Count / 5))
                {
                    var pairs = chunk.Select(k => (k, Value(k, round))).ToList();
                    writer.PutMany(pairs);
                    foreach (var (k, v) in pairs) acknowledged[Encoding.UTF8.GetString(k)] = v;
                }
                putManys++;
            }
        });

        CliResult moved;
        using (var move = _cluster.StartAdmin(2, "cluster", "move", $"{Moved}", "node2"))
        {
            try
            {
                moved = move.Finish(MovePatience);
            }
            finally
            {
                Volatile.Write(ref moveDone, true);
            }
        }
        racingReader.Join(MovePatience);
        racingWriter.Join(MovePatience);
        Assert.True(moved.ExitCode == 0, $"{moved}\nthe target printed:\n{_cluster.Server(1).Output}{_cluster.Server(1).Errors}");
        output.WriteLine($"{multiGets} MultiGets and {putManys} rounds of PutMany raced the move: {moved.Text}");
        Assert.Contains("\"epoch\":2", moved.Text, StringComparison.Ordinal);
        Assert.True(multiGets >= 2 && putManys >= 2, $"{multiGets} MultiGets and {putManys} rounds of PutMany");

        using var fresh = Connect(1);
        var written = fresh.MultiGet(writeKeys);
        for (int i = 0; i < writeKeys.Count; i++)
        {
            byte[] expected = acknowledged[Encoding.UTF8.GetString(writeKeys[i])];
            Assert.True(expected.AsSpan().SequenceEqual(written[i]), $"{Encoding.UTF8.GetString(writeKeys[i])}: the last acknowledged PutMany pair is not there");
        }

        // The stale reader's MultiGet asks node1 for keys it no longer holds.
        Assert.Equal(1, staleReader.ClusterEpoch);
        var values = staleReader.MultiGet(readKeys);
        for (int i = 0; i < readKeys.Count; i++)
            Assert.True(Value(readKeys[i], 0).AsSpan().SequenceEqual(values[i]), $"{Encoding.UTF8.GetString(readKeys[i])} read {(values[i] is null ? "null" : "another value")} by a client that missed the move");
        Assert.Equal(2, staleReader.ClusterEpoch);

        // The stale writer's PutMany sends the moved slot's pairs to node1, which refuses them.
        Assert.Equal(1, staleWriter.ClusterEpoch);
        staleWriter.PutMany([.. writeKeys.Select(k => (k, Value(k, -1)))]);
        Assert.Equal(2, staleWriter.ClusterEpoch);
        foreach (var k in writeKeys) Assert.Equal(Value(k, -1), fresh.Get(k));
        Assert.All(fresh.MultiGet(writeKeys), (v, i) => Assert.Equal(Value(writeKeys[i], -1), v));
    }

    static byte[] Value(byte[] key, int round) => Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetString(key)}-round-{round}");

    public void Dispose() => _cluster.Dispose();
}
