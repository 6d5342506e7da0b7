using System.Buffers;
using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

public class RoundTripTests
{
    [Theory]
    [InlineData("client-1", "secret", Wire.ProtocolVersion)]
    [InlineData("client-2", null, 7)]
    [InlineData("", "", -1)]
    public void HelloCarriesVersionNameAndCredential(string name, string? credential, int version)
    {
        var m = Frames.RoundTrip(o => MessageEncoder.Hello(o, 42, name, credential, version));
        Assert.Equal(MessageType.Hello, m.Type);
        Assert.Equal(42ul, m.Id);
        Assert.Equal(version, m.Version);
        Assert.Equal(name, m.Text);
        Assert.Equal(credential, m.Credential);
    }

    [Theory]
    [InlineData(MessageType.HelloReply, 0)]
    [InlineData(MessageType.HelloReply, 5)]
    [InlineData(MessageType.Regions, 1)]
    [InlineData(MessageType.Regions, 200)]
    public void NodeViewCarriesEveryRegionField(MessageType type, int regionCount)
    {
        NodeView node = Frames.SampleNode(regionCount);
        var m = Frames.RoundTrip(o => MessageEncoder.NodeView(o, type, ulong.MaxValue, node));
        Assert.Equal(type, m.Type);
        Assert.Equal(ulong.MaxValue, m.Id);
        Assert.Equal(StoreStatus.Ok, m.Status);
        Assert.Null(m.Text);
        NodeView decoded = Assert.IsType<NodeView>(m.Node);
        Assert.Equal(node.ProtocolVersion, decoded.ProtocolVersion);
        Assert.Equal(node.NodeName, decoded.NodeName);
        Assert.Equal(node.PartitionCount, decoded.PartitionCount);
        Assert.Equal(node.HashSeed, decoded.HashSeed);
        Assert.Equal(node.Regions.Count, decoded.Regions.Count);
        for (int i = 0; i < node.Regions.Count; i++)
        {
            RegionDescriptor expected = node.Regions[i], actual = decoded.Regions[i];
            Assert.Equal(expected.Partition, actual.Partition);
            Assert.Equal(expected.Generation, actual.Generation);
            Assert.Equal(expected.Length, actual.Length);
            Assert.Equal(expected.Path, actual.Path);
            Assert.Equal(expected.RemoteAddress, actual.RemoteAddress);
            Assert.Equal(expected.RemoteKey, actual.RemoteKey);
        }
        if (regionCount >= 2)
        {
            Assert.Contains(decoded.Regions, r => r.Path is null);
            Assert.Contains(decoded.Regions, r => r.RemoteKey is { Length: > 0 });
        }
    }

    [Fact]
    public void RefusalCarriesStatusAndReasonButNoNodeView()
    {
        var m = Frames.RoundTrip(o => MessageEncoder.Refusal(o, 3, StoreStatus.UnsupportedVersion, "speak version 1"));
        Assert.Equal(MessageType.HelloReply, m.Type);
        Assert.Equal(3ul, m.Id);
        Assert.Equal(StoreStatus.UnsupportedVersion, m.Status);
        Assert.Equal("speak version 1", m.Text);
        Assert.Null(m.Node);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(16, 100)]
    [InlineData(Limits.MaxKeyLength, 0)]
    [InlineData(1, Limits.MaxValueLength)]
    [InlineData(Limits.MaxKeyLength, Limits.MaxValueLength)]
    public void PutCarriesKeyAndValueUpToTheLimits(int keyLength, int valueLength)
    {
        byte[] key = Frames.Bytes(keyLength, 1), value = Frames.Bytes(valueLength, 2);
        var m = Frames.RoundTrip(o => MessageEncoder.Put(o, 7, key, value));
        Assert.Equal(MessageType.Put, m.Type);
        Assert.Equal(7ul, m.Id);
        Assert.Equal(key, m.Key.ToArray());
        Assert.Equal(value, m.Value.ToArray());
    }

    [Theory]
    [InlineData(MessageType.Delete, 1)]
    [InlineData(MessageType.Get, 1)]
    [InlineData(MessageType.Delete, Limits.MaxKeyLength)]
    [InlineData(MessageType.Get, Limits.MaxKeyLength)]
    public void DeleteAndGetCarryOnlyTheKey(MessageType type, int keyLength)
    {
        byte[] key = Frames.Bytes(keyLength, 3);
        var m = Frames.RoundTrip(o => MessageEncoder.KeyOnly(o, type, 9, key));
        Assert.Equal(type, m.Type);
        Assert.Equal(9ul, m.Id);
        Assert.Equal(key, m.Key.ToArray());
        Assert.True(m.Value.IsEmpty);
        Assert.Null(m.Pairs);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(Wire.MaxMultiPutPairs)]
    public void MultiPutCarriesEveryPairInOrder(int count)
    {
        var pairs = Enumerable.Range(0, count)
            .Select(i => (Key: Frames.Bytes(1 + i % 50, i), Value: Frames.Bytes(i % 7 * 13, -i)))
            .ToList();
        var m = Frames.RoundTrip(o => MessageEncoder.MultiPut(o, 11, pairs));
        Assert.Equal(MessageType.MultiPut, m.Type);
        Assert.Equal(11ul, m.Id);
        var decoded = Assert.IsType<(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)[]>(m.Pairs);
        Assert.Equal(count, decoded.Length);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(pairs[i].Key, decoded[i].Key.ToArray());
            Assert.Equal(pairs[i].Value, decoded[i].Value.ToArray());
        }
    }

    [Theory]
    [InlineData(MessageType.Regions)]
    [InlineData(MessageType.Stats)]
    [InlineData(MessageType.OpenMailbox)]
    public void EmptyRequestsCarryOnlyTheirId(MessageType type)
    {
        var m = Frames.RoundTrip(o => MessageEncoder.Empty(o, type, 0x0102_0304_0506_0708));
        Assert.Equal(type, m.Type);
        Assert.Equal(0x0102_0304_0506_0708ul, m.Id);
        Assert.Null(m.Node);
        Assert.Null(m.Stats);
        Assert.True(m.Key.IsEmpty);
    }

    public static TheoryData<StoreStatus> Statuses => new(Enum.GetValues<StoreStatus>());

    [Theory]
    [MemberData(nameof(Statuses))]
    public void ReplyCarriesEveryStatusWithAndWithoutText(StoreStatus status)
    {
        var bare = Frames.RoundTrip(o => MessageEncoder.Reply(o, 12, status));
        Assert.Equal(MessageType.Reply, bare.Type);
        Assert.Equal(12ul, bare.Id);
        Assert.Equal(status, bare.Status);
        Assert.Null(bare.Text);

        string text = StoreStatusText.Describe(status) + " ü€";
        var explained = Frames.RoundTrip(o => MessageEncoder.Reply(o, 13, status, text));
        Assert.Equal(status, explained.Status);
        Assert.Equal(text, explained.Text);
    }

    [Fact]
    public void ReplyTextAtTheLimitRoundTrips()
    {
        string text = new('x', Wire.MaxTextLength);
        Assert.Equal(text, Frames.RoundTrip(o => MessageEncoder.Reply(o, 1, StoreStatus.BadRequest, text)).Text);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 0)]
    [InlineData(true, Limits.MaxValueLength)]
    [InlineData(false, 0)]
    [InlineData(false, 5)]
    public void ValueReplyTellsAValueAnEmptyValueAndNoValueApart(bool hasValue, int length)
    {
        byte[] value = Frames.Bytes(length, 4);
        StoreStatus status = hasValue ? StoreStatus.Ok : StoreStatus.NotFound;
        var m = Frames.RoundTrip(o => MessageEncoder.ValueReply(o, 14, status, value, hasValue));
        Assert.Equal(MessageType.ValueReply, m.Type);
        Assert.Equal(14ul, m.Id);
        Assert.Equal(status, m.Status);
        Assert.Equal(hasValue, m.HasValue);
        Assert.Equal(hasValue ? value : [], m.Value.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(Wire.MaxStats)]
    public void StatsReplyCarriesEveryCounter(int count)
    {
        var stats = Enumerable.Range(0, count).ToDictionary(i => $"counter.{i}", i => (long)i * i - 3 + (i == 1 ? long.MinValue : 0));
        var m = Frames.RoundTrip(o => MessageEncoder.StatsReply(o, 15, stats));
        Assert.Equal(MessageType.StatsReply, m.Type);
        Assert.Equal(15ul, m.Id);
        Assert.Equal(stats.OrderBy(p => p.Key), Assert.IsType<Dictionary<string, long>>(m.Stats).OrderBy(p => p.Key));
    }

    [Fact]
    public void ClientReportCarriesItsCounters()
    {
        var counters = new Dictionary<string, long> { ["lookups"] = 12_345, ["cache_hits"] = 12_000, ["retries"] = 3, ["checksum_failures"] = 1, ["fallbacks"] = 0 };
        var m = Frames.RoundTrip(o => MessageEncoder.ClientReport(o, 21, counters));
        Assert.Equal(MessageType.ClientReport, m.Type);
        Assert.Equal(21ul, m.Id);
        Assert.Equal(counters.OrderBy(p => p.Key), Assert.IsType<Dictionary<string, long>>(m.Stats).OrderBy(p => p.Key));
    }

    [Fact]
    public void FramesWrittenBackToBackEachCarryTheirOwnLength()
    {
        var output = new ArrayBufferWriter<byte>(16);
        byte[] big = Frames.Bytes(300_000, 5);
        MessageEncoder.Hello(output, 1, "c", null);
        MessageEncoder.KeyOnly(output, MessageType.Get, 2, "k"u8);
        // Forces the writer to grow between frames: earlier prefixes must survive the copy.
        MessageEncoder.Put(output, 3, "big"u8, big);
        MessageEncoder.Empty(output, MessageType.Stats, 4);
        MessageEncoder.NodeView(output, MessageType.Regions, 5, Frames.SampleNode());
        MessageEncoder.ValueReply(output, 6, StoreStatus.NotFound, [], hasValue: false);
        MessageEncoder.Reply(output, 7, StoreStatus.Ok, "done");

        var payloads = Frames.Split(output.WrittenMemory);
        MessageType[] types = [MessageType.Hello, MessageType.Get, MessageType.Put, MessageType.Stats, MessageType.Regions, MessageType.ValueReply, MessageType.Reply];
        Assert.Equal(types.Length, payloads.Count);
        for (int i = 0; i < types.Length; i++)
        {
            var m = Frames.Decode(payloads[i]);
            Assert.Equal(types[i], m.Type);
            Assert.Equal((ulong)i + 1, m.Id);
        }
        Assert.Equal(big, Frames.Decode(payloads[2]).Value.ToArray());
        Assert.Equal("done", Frames.Decode(payloads[6]).Text);
    }

    [Fact]
    public void EverySampleFrameIsOneMessagePackValueThatDecodes()
    {
        foreach (var (name, payload) in Frames.Samples)
        {
            Frames.AssertOneMessagePackValue(payload);
            Assert.True(MessageDecoder.TryDecode(payload, out _, out string error), $"{name}: {error}");
        }
    }
}
