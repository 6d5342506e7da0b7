using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

/// <summary>Encodes frames and splits them as a transport does: a little-endian length, then the payload.</summary>
static class Frames
{
    public static byte[] Encode(Action<ArrayBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Splits a buffer of back-to-back frames; every prefix must cover exactly one payload.</summary>
    public static List<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> buffer)
    {
        var payloads = new List<ReadOnlyMemory<byte>>();
        int offset = 0;
        while (offset < buffer.Length)
        {
            Assert.True(buffer.Length - offset >= Wire.LengthPrefix, $"a frame at {offset} is cut inside its length prefix");
            int length = BinaryPrimitives.ReadInt32LittleEndian(buffer.Span[offset..]);
            Assert.InRange(length, 1, buffer.Length - offset - Wire.LengthPrefix);
            var payload = buffer.Slice(offset + Wire.LengthPrefix, length);
            AssertOneMessagePackValue(payload);
            payloads.Add(payload);
            offset += Wire.LengthPrefix + length;
        }
        return payloads;
    }

    /// <summary>The payload of a buffer that holds exactly one frame.</summary>
    public static ReadOnlyMemory<byte> Payload(byte[] frame)
    {
        Assert.Equal(frame.Length - Wire.LengthPrefix, BinaryPrimitives.ReadInt32LittleEndian(frame));
        return Assert.Single(Split(frame));
    }

    /// <summary>Decodes a payload that must be well formed.</summary>
    public static Message Decode(ReadOnlyMemory<byte> payload)
    {
        Assert.True(MessageDecoder.TryDecode(payload, out var message, out string error), error);
        Assert.Equal("", error);
        return message;
    }

    public static Message RoundTrip(Action<ArrayBufferWriter<byte>> write) => Decode(Payload(Encode(write)));

    /// <summary>
    /// A generic MessagePack reader that skips one value lands exactly on the end: the array header
    /// counts the elements that follow, so tools other than our decoder read the frame the same way.
    /// </summary>
    public static void AssertOneMessagePackValue(ReadOnlyMemory<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        reader.Skip();
        Assert.True(reader.End, $"{payload.Length - reader.Consumed} bytes follow the first MessagePack value");
    }

    public static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>One past the largest type byte, so fuzzers also try an unknown type.</summary>
    public static readonly int TypeBytes = (int)Enum.GetValues<MessageType>().Max() + 2;

    public static NodeView SampleNode(int regions = 3) => new(
        Wire.ProtocolVersion, "node-a", Math.Max(regions, 8), 0x1234_5678_9abc_def0,
        Enumerable.Range(0, regions).Select(i => new RegionDescriptor(
            i, (ulong)i + 1, 4096L << (i % 20), i % 2 == 0 ? $"/dev/shm/rdmakv-{i}" : null,
            i == 0 ? 0 : 0xffff_0000_0000_0000 + (ulong)i, i == 0 ? null : Bytes(8 * i, i))).ToArray());

    /// <summary>A small, valid payload of every frame shape the encoder writes.</summary>
    public static IReadOnlyList<(string Name, byte[] Payload)> Samples { get; } = BuildSamples();

    public static byte[] Sample(string name) => Samples.Single(s => s.Name == name).Payload;

    static List<(string, byte[])> BuildSamples()
    {
        var frames = new List<(string, Action<ArrayBufferWriter<byte>>)>
        {
            ("hello", o => MessageEncoder.Hello(o, 1, "client-1", "secret")),
            ("hello without credential", o => MessageEncoder.Hello(o, 2, "client-2", null)),
            ("hello reply", o => MessageEncoder.NodeView(o, MessageType.HelloReply, 3, SampleNode())),
            ("regions reply", o => MessageEncoder.NodeView(o, MessageType.Regions, 4, SampleNode(1))),
            ("refusal", o => MessageEncoder.Refusal(o, 5, StoreStatus.UnsupportedVersion, "version 9")),
            ("put", o => MessageEncoder.Put(o, 6, "key-6"u8, Bytes(40, 6))),
            ("put empty value", o => MessageEncoder.Put(o, 7, "k"u8, [])),
            ("delete", o => MessageEncoder.KeyOnly(o, MessageType.Delete, 8, "key-8"u8)),
            ("get", o => MessageEncoder.KeyOnly(o, MessageType.Get, 9, "key-9"u8)),
            ("multi-put", o => MessageEncoder.MultiPut(o, 10, [("a"u8.ToArray(), Bytes(5, 1)), ("b"u8.ToArray(), []), ("c"u8.ToArray(), Bytes(20, 2))])),
            ("regions", o => MessageEncoder.Empty(o, MessageType.Regions, 11)),
            ("stats", o => MessageEncoder.Empty(o, MessageType.Stats, 12)),
            ("open mailbox", o => MessageEncoder.Empty(o, MessageType.OpenMailbox, 19)),
            ("reply", o => MessageEncoder.Reply(o, 13, StoreStatus.Ok)),
            ("reply with text", o => MessageEncoder.Reply(o, 14, StoreStatus.RegionFull, "full")),
            ("value reply", o => MessageEncoder.ValueReply(o, 15, StoreStatus.Ok, Bytes(30, 15), hasValue: true)),
            ("value reply empty", o => MessageEncoder.ValueReply(o, 16, StoreStatus.Ok, [], hasValue: true)),
            ("value reply nil", o => MessageEncoder.ValueReply(o, 17, StoreStatus.NotFound, [], hasValue: false)),
            ("stats reply", o => MessageEncoder.StatsReply(o, 18, new Dictionary<string, long> { ["puts"] = 3, ["gets"] = -1, ["bytes"] = long.MaxValue })),
            ("client report", o => MessageEncoder.ClientReport(o, 20, new Dictionary<string, long> { ["lookups"] = 1000, ["retries"] = 2 })),
        };
        return frames.Select(f => (f.Item1, Payload(Encode(f.Item2)).ToArray())).ToList();
    }
}
