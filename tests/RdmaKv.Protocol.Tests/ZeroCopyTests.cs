using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RdmaKv.Core;

namespace RdmaKv.Protocol.Tests;

/// <summary>Decoded keys and values are views of the received frame, not copies.</summary>
public class ZeroCopyTests
{
    [Fact]
    public void DecodedPutKeyAndValueAliasThePayloadBuffer()
    {
        byte[] key = "the-key"u8.ToArray(), value = Frames.Bytes(1000, 9);
        byte[] frame = Frames.Encode(o => MessageEncoder.Put(o, 1, key, value));
        // The payload is a slice of the frame buffer, as a transport hands it over.
        var m = Frames.Decode(frame.AsMemory(Wire.LengthPrefix));

        Assert.True(MemoryMarshal.TryGetArray(m.Key, out ArraySegment<byte> keySegment));
        Assert.True(MemoryMarshal.TryGetArray(m.Value, out ArraySegment<byte> valueSegment));
        Assert.Same(frame, keySegment.Array);
        Assert.Same(frame, valueSegment.Array);
        Assert.Equal(key, frame.AsSpan(keySegment.Offset, keySegment.Count).ToArray());
        Assert.Equal(value, frame.AsSpan(valueSegment.Offset, valueSegment.Count).ToArray());
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(m.Key.Span), ref frame[keySegment.Offset]));
        Assert.True(keySegment.Offset + keySegment.Count <= valueSegment.Offset);

        // A write into the frame shows through the decoded message.
        frame[valueSegment.Offset + 10] ^= 0xff;
        Assert.Equal(frame[valueSegment.Offset + 10], m.Value.Span[10]);
    }

    [Fact]
    public void DecodedFieldsAliasPayloadsThatAreNotArrays()
    {
        byte[] encoded = Frames.Payload(Frames.Encode(o => MessageEncoder.Put(o, 1, "k"u8, Frames.Bytes(64, 1)))).ToArray();
        using var native = new NativeMemoryManager(encoded.Length);
        encoded.CopyTo(native.Memory.Span);
        var m = Frames.Decode(native.Memory);

        Assert.False(MemoryMarshal.TryGetArray(m.Key, out _));
        Assert.True(native.Memory.Span.Overlaps(m.Key.Span, out int keyOffset));
        Assert.True(native.Memory.Span.Overlaps(m.Value.Span, out int valueOffset));
        Assert.Equal("k"u8.ToArray(), native.Memory.Span.Slice(keyOffset, 1).ToArray());
        Assert.Equal(encoded.Length - 64, valueOffset);
    }

    [Fact]
    public void MultiPutPairsAndValueReplyAliasThePayloadBuffer()
    {
        byte[] pairsFrame = Frames.Encode(o => MessageEncoder.MultiPut(o, 2, [("a"u8.ToArray(), Frames.Bytes(10, 1)), ("bb"u8.ToArray(), Frames.Bytes(20, 2))]));
        var multi = Frames.Decode(pairsFrame.AsMemory(Wire.LengthPrefix));
        foreach (var (key, value) in multi.Pairs!)
        {
            Assert.True(MemoryMarshal.TryGetArray(key, out var k) && k.Array == pairsFrame);
            Assert.True(MemoryMarshal.TryGetArray(value, out var v) && v.Array == pairsFrame);
        }

        byte[] replyFrame = Frames.Encode(o => MessageEncoder.ValueReply(o, 3, StoreStatus.Ok, Frames.Bytes(50, 3), hasValue: true));
        var reply = Frames.Decode(replyFrame.AsMemory(Wire.LengthPrefix));
        Assert.True(MemoryMarshal.TryGetArray(reply.Value, out var segment));
        Assert.Same(replyFrame, segment.Array);
        Assert.Equal(replyFrame.Length - 50, segment.Offset);
    }

    /// <summary>Unmanaged memory, as a registered receive buffer would be.</summary>
    sealed unsafe class NativeMemoryManager(int length) : MemoryManager<byte>
    {
        readonly byte* _pointer = (byte*)NativeMemory.Alloc((nuint)length);

        public override Span<byte> GetSpan() => new(_pointer, length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) => NativeMemory.Free(_pointer);
    }
}
