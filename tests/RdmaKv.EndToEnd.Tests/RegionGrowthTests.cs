using System.Text;
using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Partitions outgrow their first region many times while a client reads them: the client must
/// notice each retired generation and map the new one.
/// </summary>
public abstract class RegionGrowthTests(TestTransport writes)
{
    const int KeyCount = 50_000;
    const int Batch = 1_000;

    static byte[] Key(int i) => Encoding.UTF8.GetBytes($"key-{i:D6}");

    static byte[] Value(int i) => Encoding.UTF8.GetBytes($"value-{i}-" + new string((char)('a' + i % 26), i % 97));

    [Fact]
    public void FiftyThousandKeysStayReadableThroughTheClientWhileTheNodeGrows()
    {
        using var node = new TestNode(o => o with { Partitions = 4, InitialBucketCount = 64, InitialExtentBytes = 64 << 10 });
        using var client = node.Connect(writes);
        long refreshes = KvClient.ThreadReads.Refreshes;

        for (int start = 0; start < KeyCount; start += Batch)
        {
            var pairs = Enumerable.Range(start, Batch).Select(i => (Key(i), Value(i))).ToList();
            client.PutMany(pairs);
            // Read the batch's first key and one of the first batch: both partitions may have grown since.
            Assert.Equal(Value(start), client.Get(Key(start)));
            Assert.Equal(Value(start / 2), client.Get(Key(start / 2)));
        }

        var missing = new List<int>();
        for (int i = 0; i < KeyCount; i++)
        {
            if (!Value(i).AsSpan().SequenceEqual(client.Get(Key(i)))) missing.Add(i);
        }
        Assert.True(missing.Count == 0, $"{missing.Count} keys read wrong, first {string.Join(", ", missing.Take(10))}");

        var stats = node.Node.Stats();
        Assert.Equal(KeyCount, stats["keys"]);
        Assert.True(stats["grows"] >= 8, $"expected every partition to grow at least twice, saw {stats["grows"]} grows");
        Assert.True(KvClient.ThreadReads.Refreshes > refreshes, "the client never refreshed its view of the regions");
        Assert.Null(client.Get(Key(KeyCount)));

        node.StopAndCheckRemoved();
    }

    [Fact]
    public void ASecondClientConnectingAfterGrowthMapsTheCurrentGenerations()
    {
        using var node = new TestNode(o => o with { Partitions = 2, InitialBucketCount = 16, InitialExtentBytes = 64 << 10 });
        using (var writer = node.Connect(writes))
        {
            for (int i = 0; i < 5_000; i++) writer.Put(Key(i), Value(i));
        }
        Assert.True(node.Stat("grows") > 0, "the node never grew");

        using var reader = node.Connect(writes);
        long refreshes = KvClient.ThreadReads.Refreshes;
        for (int i = 0; i < 5_000; i++) Assert.Equal(Value(i), reader.Get(Key(i)));

        Assert.Equal(refreshes, KvClient.ThreadReads.Refreshes);
        node.StopAndCheckRemoved();
    }
}

public sealed class RegionGrowthOverMailboxTests() : RegionGrowthTests(TestTransport.Mailbox);

public sealed class RegionGrowthOverSocketTests() : RegionGrowthTests(TestTransport.Socket);

public sealed class RegionGrowthOverUcxTests() : RegionGrowthTests(TestTransport.Ucx);
