using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

/// <summary>An expiry travels as one more element, only when there is one; anything but a positive time is refused.</summary>
public class ExpiryWireTests
{
    [Theory]
    [InlineData(MessageType.Put)]
    [InlineData(MessageType.MovePut)]
    public void APutCarriesItsExpiryAndOneWithoutIsAsItWas(MessageType type)
    {
        var m = Frames.RoundTrip(o => MessageEncoder.Put(o, 5, "k"u8, "v"u8, type, expiresAt: 1_700_000_000_123));
        Assert.Equal((type, 1_700_000_000_123L), (m.Type, m.ExpiresAt));
        Assert.Equal("v"u8.ToArray(), m.Value.ToArray());
        var plain = Frames.Encode(o => MessageEncoder.Put(o, 5, "k"u8, "v"u8, type));
        Assert.Equal(0, Frames.Decode(Frames.Payload(plain)).ExpiresAt);
        Assert.Equal(Frames.Encode(o => MessageEncoder.Put(o, 5, "k"u8, "v"u8, type, expiresAt: 0)), plain);
    }

    [Fact]
    public void ReplicaPutsPairsAndValueRepliesCarryExpiries()
    {
        var replica = Frames.RoundTrip(o => MessageEncoder.Replica(o, MessageType.ReplicaPut, 1, 3, "node1", "k"u8, "v"u8, 42));
        Assert.Equal((3L, "node1", 42L), (replica.Epoch, replica.Text, replica.ExpiresAt));
        var import = Frames.RoundTrip(o => MessageEncoder.MultiPut(o, 2, [("a"u8.ToArray(), "1"u8.ToArray()), ("b"u8.ToArray(), "2"u8.ToArray())], MessageType.Import, [0, 77]));
        Assert.Equal([0L, 77L], import.PairExpiries!);
        var none = Frames.RoundTrip(o => MessageEncoder.MultiPut(o, 2, [("a"u8.ToArray(), "1"u8.ToArray())], MessageType.Import, [0]));
        Assert.Null(none.PairExpiries);
        var reply = Frames.RoundTrip(o => MessageEncoder.ValueReply(o, 3, StoreStatus.Ok, "v"u8, hasValue: true, expiresAt: 99));
        Assert.Equal((true, 99L), (reply.HasValue, reply.ExpiresAt));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void AnExpiryThatIsNotAPositiveTimeIsRefused(long expiresAt)
    {
        byte[] put = Pack.Array((byte)MessageType.Put, 1ul, "k"u8.ToArray(), "v"u8.ToArray(), expiresAt);
        Assert.False(MessageDecoder.TryDecode(put, out _, out string error));
        Assert.Contains("expiry", error);
        byte[] pair = Pack.Array((byte)MessageType.MultiPut, 1ul, new object[] { new object[] { "k"u8.ToArray(), "v"u8.ToArray(), expiresAt } });
        Assert.False(MessageDecoder.TryDecode(pair, out _, out _));
    }

    [Fact]
    public void AnExpiryOnAValueReplyWithoutAValueOrATextExpiryIsRefused()
    {
        Assert.False(MessageDecoder.TryDecode(Pack.Array((byte)MessageType.ValueReply, 1ul, (byte)StoreStatus.NotFound, null, 5L), out _, out _));
        Assert.False(MessageDecoder.TryDecode(Pack.Array((byte)MessageType.Put, 1ul, "k"u8.ToArray(), "v"u8.ToArray(), "soon"), out _, out _));
    }
}
