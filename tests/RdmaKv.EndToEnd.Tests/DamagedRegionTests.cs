using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Region memory is a file the node's user (or a memory fault) can change under the node. Readers
/// reject what fails its checksum and ask the node; the node must not answer with the same damaged
/// bytes, nor write outside a region whose index is damaged.
/// </summary>
public sealed class DamagedRegionTests : IDisposable
{
    readonly TestNode _node = new(o => o with { Partitions = 1 });

    [Fact]
    public void ADamagedValueIsAnsweredFromTheStoreAndTheRegionIsRepaired()
    {
        using var client = _node.Connect();
        for (int i = 0; i < 50; i++) client.Put($"key-{i}", $"value-{i}-intact");
        Assert.Equal("value-7-intact", Encoding.UTF8.GetString(client.Get("key-7")!));

        var partition = _node.Node.Partitions[0];
        lock (partition.Lock)
        {
            Span<byte> value = Find(partition.Writer.Region, "value-7-intact"u8);
            value[^6..].Fill((byte)'X'); // "value-7-XXXXXX": the checksum no longer matches
        }

        Assert.Equal("value-7-intact", Encoding.UTF8.GetString(client.Get("key-7")!));
        Assert.Equal(1, _node.Stat("damaged_extents"));
        long fallbacks = _node.Stat("fallback_gets");
        Assert.Equal("value-7-intact", Encoding.UTF8.GetString(client.Get("key-7")!));
        Assert.Equal(fallbacks, _node.Stat("fallback_gets")); // repaired: one-sided again
        for (int i = 0; i < 50; i++) Assert.Equal($"value-{i}-intact", Encoding.UTF8.GetString(client.Get($"key-{i}")!));
    }

    [Fact]
    public void RandomBytesOverTheIndexNeitherCrashTheWriterNorLoseStoredValues()
    {
        string data = TestNode.NewDataDirectory();
        try
        {
            using (var node = new TestNode(o => o with { Partitions = 1 }, dataDirectory: data))
            using (var client = node.Connect())
            {
                for (int i = 0; i < 200; i++) client.Put($"key-{i}", $"value-{i}");
                var partition = node.Node.Partitions[0];
                lock (partition.Lock)
                {
                    Region region = partition.Writer.Region;
                    new Random(13).NextBytes(region.Bytes(RegionHeader.IndexOffset, (int)(region.Header.ExtentOffset - RegionHeader.IndexOffset)));
                }
                // Writes go on (the entries they trusted are gone, so keys are inserted anew), reads get
                // whatever the node can vouch for, and the node stops cleanly: nothing throws.
                for (int i = 0; i < 200; i++) client.Put($"key-{i}", $"new-{i}");
                for (int i = 0; i < 200; i++) Assert.Equal($"new-{i}", Encoding.UTF8.GetString(client.Get($"key-{i}")!));
                for (int i = 200; i < 400; i++) client.Put($"key-{i}", $"value-{i}");
                node.StopAndCheckRemoved();
            }
            using var restarted = new TestNode(o => o with { Partitions = 1 }, dataDirectory: data);
            using var reader = restarted.Connect();
            for (int i = 0; i < 200; i++) Assert.Equal($"new-{i}", Encoding.UTF8.GetString(reader.Get($"key-{i}")!));
            for (int i = 200; i < 400; i++) Assert.Equal($"value-{i}", Encoding.UTF8.GetString(reader.Get($"key-{i}")!));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The one place in the region's extent area that holds <paramref name="bytes"/>.</summary>
    internal static Span<byte> Find(Region region, ReadOnlySpan<byte> bytes)
    {
        Span<byte> extents = region.Bytes(region.Header.ExtentOffset, (int)region.Header.ExtentSize);
        int at = extents.IndexOf(bytes);
        Assert.True(at >= 0, "the value is not in the region");
        Assert.True(extents[(at + 1)..].IndexOf(bytes) < 0, "the value is in the region twice");
        return extents.Slice(at, bytes.Length);
    }

    public void Dispose() => _node.Dispose();
}
