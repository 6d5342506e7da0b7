using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

/// <summary>Every input outside the wire contract is refused with a reason, not decoded and not thrown.</summary>
public class BoundsTests
{
    const byte Put = (byte)MessageType.Put, Get = (byte)MessageType.Get, Delete = (byte)MessageType.Delete;
    const byte MultiPut = (byte)MessageType.MultiPut, Reply = (byte)MessageType.Reply;
    const byte HelloReply = (byte)MessageType.HelloReply, ValueReply = (byte)MessageType.ValueReply;

    static readonly byte[] TooLongKey = new byte[Limits.MaxKeyLength + 1];
    static readonly string TooLongText = new('t', Wire.MaxTextLength + 1);

    static byte[] Encoded(Action<System.Buffers.ArrayBufferWriter<byte>> write) => Frames.Payload(Frames.Encode(write)).ToArray();

    static object?[] Region(int partition, long length) => [partition, 1ul, length, null, 0ul, null];

    static object?[] NodeReply(int partitions, params object?[] regions) =>
        [HelloReply, 1ul, (byte)0, null, 1, "node", partitions, 2ul, regions];

    static readonly Dictionary<string, Func<byte[]>> Malformed = new()
    {
        ["put key one byte over the limit"] = () => Encoded(o => MessageEncoder.Put(o, 1, TooLongKey, "v"u8)),
        ["get key one byte over the limit"] = () => Encoded(o => MessageEncoder.KeyOnly(o, MessageType.Get, 1, TooLongKey)),
        ["delete key one byte over the limit"] = () => Encoded(o => MessageEncoder.KeyOnly(o, MessageType.Delete, 1, TooLongKey)),
        ["put value one byte over the limit"] = () => Encoded(o => MessageEncoder.Put(o, 1, "k"u8, new byte[Limits.MaxValueLength + 1])),
        ["value reply one byte over the limit"] = () => Encoded(o => MessageEncoder.ValueReply(o, 1, StoreStatus.Ok, new byte[Limits.MaxValueLength + 1], true)),
        ["multi-put key over the limit"] = () => Encoded(o => MessageEncoder.MultiPut(o, 1, [("a"u8.ToArray(), []), (TooLongKey, [])])),
        ["multi-put value over the limit"] = () => Encoded(o => MessageEncoder.MultiPut(o, 1, [("a"u8.ToArray(), new byte[Limits.MaxValueLength + 1])])),
        ["multi-put with one pair too many"] = () => Encoded(o => MessageEncoder.MultiPut(o, 1,
            Enumerable.Range(0, Wire.MaxMultiPutPairs + 1).Select(i => (BitConverter.GetBytes(i), Array.Empty<byte>())).ToList())),
        ["hello name over the text limit"] = () => Encoded(o => MessageEncoder.Hello(o, 1, TooLongText, null)),
        ["hello credential over the text limit"] = () => Encoded(o => MessageEncoder.Hello(o, 1, "c", TooLongText)),
        ["reply text over the text limit"] = () => Encoded(o => MessageEncoder.Reply(o, 1, StoreStatus.BadRequest, TooLongText)),
        ["refusal text over the text limit"] = () => Encoded(o => MessageEncoder.Refusal(o, 1, StoreStatus.Unauthorized, TooLongText)),
        ["node name over the text limit"] = () => Encoded(o => MessageEncoder.NodeView(o, MessageType.HelloReply, 1, Frames.SampleNode() with { NodeName = TooLongText })),
        ["region path over the text limit"] = () => Encoded(o => MessageEncoder.NodeView(o, MessageType.Regions, 1,
            Frames.SampleNode() with { Regions = [new RegionDescriptor(0, 1, 2, TooLongText)] })),
        ["stats name over the text limit"] = () => Encoded(o => MessageEncoder.StatsReply(o, 1, new Dictionary<string, long> { [TooLongText] = 1 })),
        ["stats over the count limit"] = () => Encoded(o => MessageEncoder.StatsReply(o, 1, Enumerable.Range(0, Wire.MaxStats + 1).ToDictionary(i => $"s{i}", i => (long)i))),
        ["regions over the count limit"] = () => Pack.Array(NodeReply(Wire.MaxRegions,
            Enumerable.Range(0, Wire.MaxRegions + 1).Select(i => (object?)Region(0, 1)).ToArray())),
        ["region partition outside the partition count"] = () => Pack.Array(NodeReply(2, Region(2, 1))),
        ["region with a negative length"] = () => Pack.Array(NodeReply(2, Region(0, -1))),
        ["node view with no partitions"] = () => Pack.Array(NodeReply(0)),
        ["put payload one byte over the frame limit"] = () => Encoded(o => MessageEncoder.Put(o, 1, "k"u8, new byte[Wire.MaxFrameLength - 10])),
        ["multi-put within the pair limits but over the frame limit"] = () => Encoded(o => MessageEncoder.MultiPut(o, 1,
            [("a"u8.ToArray(), new byte[Limits.MaxValueLength]), ("b"u8.ToArray(), new byte[Wire.MaxFrameLength - Limits.MaxValueLength])])),
        ["zeroed payload over the frame limit"] = () => new byte[Wire.MaxFrameLength + 1],
        ["empty payload"] = () => [],
        ["payload that is not an array"] = () => Pack.Value("hello"),
        ["array of one element"] = () => Pack.Array(Get),
        ["array of seventeen elements"] = () => Pack.Array(new object?[17]),
        ["unknown type zero"] = () => Pack.Array((byte)0, 1ul),
        ["unknown type one past the last"] = () => Pack.Array((byte)(Enum.GetValues<MessageType>().Max() + 1), 1ul),
        ["unknown type 255"] = () => Pack.Array((byte)255, 1ul),
        ["type larger than a byte"] = () => Pack.Array(256 + Get, 1ul, "k"u8.ToArray()),
        ["negative id"] = () => Pack.Array(Get, -1, "k"u8.ToArray()),
        ["put key as a string"] = () => Pack.Array(Put, 1ul, "key", "v"u8.ToArray()),
        ["get key as a string"] = () => Pack.Array(Get, 1ul, "key"),
        ["put value as a string"] = () => Pack.Array(Put, 1ul, "k"u8.ToArray(), "value"),
        ["multi-put key as a string"] = () => Pack.Array(MultiPut, 1ul, new object?[] { new object?[] { "key", "v"u8.ToArray() } }),
        ["put nil key"] = () => Pack.Array(Put, 1ul, null, "v"u8.ToArray()),
        ["delete nil key"] = () => Pack.Array(Delete, 1ul, null),
        ["put nil value"] = () => Pack.Array(Put, 1ul, "k"u8.ToArray(), null),
        ["multi-put nil key"] = () => Pack.Array(MultiPut, 1ul, new object?[] { new object?[] { null, "v"u8.ToArray() } }),
        ["multi-put pair of three"] = () => Pack.Array(MultiPut, 1ul, new object?[] { new object?[] { "k"u8.ToArray(), "v"u8.ToArray(), null } }),
        ["multi-put pairs claim more than follow"] = () => Pack.Array(MultiPut, 1ul, new LyingArray(3, [new object?[] { "k"u8.ToArray(), "v"u8.ToArray() }])),
        ["reply status out of byte range"] = () => Pack.Array(Reply, 1ul, 300, null),
        ["value reply with a string value"] = () => Pack.Array(ValueReply, 1ul, (byte)0, "v"),
        ["trailing nil after a get"] = () => Pack.Concat(Frames.Sample("get"), [0xc0]),
        ["trailing zero byte after a reply"] = () => Pack.Concat(Frames.Sample("reply"), [0x00]),
        ["two messages in one payload"] = () => Pack.Concat(Frames.Sample("put"), Frames.Sample("put empty value")),
        ["array header claims more elements than follow"] = () => Pack.Value(new LyingArray(4, [Put, 1ul, "k"u8.ToArray()])),
    };

    /// <summary>Well-formed bodies of each type; each wrong-count case adds or drops the last element.</summary>
    static readonly Dictionary<string, object?[]> WellFormed = new()
    {
        ["hello"] = [(byte)MessageType.Hello, 1ul, 1, "client", null],
        ["refusal"] = [HelloReply, 1ul, (byte)7, "why"],
        ["node view"] = NodeReply(2, Region(0, 1), Region(1, 2)),
        ["put"] = [Put, 1ul, "k"u8.ToArray(), "v"u8.ToArray()],
        ["delete"] = [Delete, 1ul, "k"u8.ToArray()],
        ["get"] = [Get, 1ul, "k"u8.ToArray()],
        ["multi-put"] = [MultiPut, 1ul, new object?[] { new object?[] { "k"u8.ToArray(), "v"u8.ToArray() } }],
        ["regions"] = [(byte)MessageType.Regions, 1ul],
        ["stats"] = [(byte)MessageType.Stats, 1ul],
        ["open mailbox"] = [(byte)MessageType.OpenMailbox, 1ul],
        ["reply"] = [Reply, 1ul, (byte)0, null],
        ["value reply"] = [ValueReply, 1ul, (byte)0, "v"u8.ToArray()],
        ["stats reply"] = [(byte)MessageType.StatsReply, 1ul, new List<KeyValuePair<object?, object?>> { new("n", 1) }],
    };

    public static TheoryData<string> MalformedCases => new(Malformed.Keys);
    public static TheoryData<string> WellFormedCases => new(WellFormed.Keys);

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedPayloadIsRefusedWithAReason(string name) => AssertRefused(Malformed[name]());

    [Theory]
    [MemberData(nameof(WellFormedCases))]
    public void WellFormedBodyDecodesButOneElementMoreOrLessIsRefused(string name)
    {
        object?[] body = WellFormed[name];
        Assert.True(MessageDecoder.TryDecode(Pack.Array(body), out _, out string error), error);
        AssertRefused(Pack.Array([.. body, null]));
        AssertRefused(Pack.Array(body[..^1]));
    }

    [Fact]
    public void EveryLimitAcceptsItsExactMaximum()
    {
        Assert.True(MessageDecoder.TryDecode(Pack.Array(Put, 1ul, new byte[Limits.MaxKeyLength], new byte[Limits.MaxValueLength]), out var put, out _));
        Assert.Equal(Limits.MaxKeyLength, put.Key.Length);
        Assert.Equal(Limits.MaxValueLength, put.Value.Length);
        Assert.True(MessageDecoder.TryDecode(Pack.Array(Reply, 1ul, (byte)0, new string('t', Wire.MaxTextLength)), out _, out _));
        var largest = Pack.Array(MultiPut, 1ul, new object?[]
        {
            new object?[] { "a"u8.ToArray(), new byte[Limits.MaxValueLength] },
            new object?[] { "b"u8.ToArray(), new byte[Wire.MaxFrameLength - Limits.MaxValueLength - 22] },
        });
        Assert.Equal(Wire.MaxFrameLength, largest.Length);
        Assert.True(MessageDecoder.TryDecode(largest, out _, out string error), error);
        Assert.True(MessageDecoder.TryDecode(Pack.Array(ValueReply, 1ul, (byte)0, new byte[Limits.MaxValueLength]), out _, out _));
    }

    static void AssertRefused(byte[] payload)
    {
        Assert.False(MessageDecoder.TryDecode(payload, out var message, out string error));
        Assert.Contains("malformed", error);
        // A node echoes the reason in a Reply, whose text the client also bounds.
        Assert.InRange(error.Length, "malformed".Length + 1, Wire.MaxTextLength);
        Assert.Equal(default, message.Type);
        Assert.Equal(0ul, message.Id);
        Assert.True(message.Key.IsEmpty && message.Value.IsEmpty);
        Assert.Null(message.Pairs);
        Assert.Null(message.Node);
    }
}
