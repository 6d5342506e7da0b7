using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using FASTER.core;

namespace RdmaKv.Storage;

/// <summary>
/// FASTER callbacks for values that may carry an expiry. A stored value with an expiry has
/// SpanByte's extra metadata: its length word has the metadata bit and its payload begins with the
/// expiry (8 bytes, native byte order as <see cref="SpanByte.ExtraMetadata"/> reads it), then the
/// value. A value without expiry has no metadata, as every value written before expiry existed.
/// <code>
/// stored:  [length | metadata bit][expires at][value]   or   [length][value]
/// output:  [expires at, i64 little-endian, 0 = never][value]
/// </code>
/// Readers put the expiry, 0 without metadata, before the value in the output (see
/// <see cref="Split"/>). Writers copy the metadata bit with the bytes: FASTER's own copies drop
/// the expiry from the output's bytes while counting its length, and an in-place write must not
/// keep the bit of the value it replaces.
/// </summary>
sealed class ExpiringValueFunctions : SpanByteFunctions<Empty>
{
    /// <summary>The expiry before the value in a read's output.</summary>
    public const int ExpirySize = 8;

    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref SpanByteAndMemory dst, ref ReadInfo readInfo)
    {
        Copy(ref value, ref dst);
        return true;
    }

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref SpanByteAndMemory dst, ref ReadInfo readInfo)
    {
        Copy(ref value, ref dst);
        return true;
    }

    public override bool SingleWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref SpanByteAndMemory output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        Debug.Assert(dst.Length >= src.Length, "a new record is sized for the value it takes");
        dst.UnmarkExtraMetadata();
        dst.ShrinkSerializedLength(src.Length);
        Write(ref src, ref dst);
        return true;
    }

    public override bool ConcurrentWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref SpanByteAndMemory output, ref UpsertInfo upsertInfo)
    {
        // Lengths count the metadata: the room in place is the same with or without an expiry.
        if (dst.Length < src.Length) return false;
        dst.UnmarkExtraMetadata(); // the old expiry's bytes are payload now, cleared or overwritten below
        dst.ShrinkSerializedLength(src.Length); // zeroes the rest, so a scan of the log skips it
        Write(ref src, ref dst);
        return true;
    }

    /// <summary>Splits a read's output into the expiry (0 = never) and the value.</summary>
    public static ReadOnlySpan<byte> Split(ReadOnlySpan<byte> output, out long expiresAt)
    {
        expiresAt = BinaryPrimitives.ReadInt64LittleEndian(output);
        return output[ExpirySize..];
    }

    /// <summary>The output's bytes: the expiry, then the value.</summary>
    public static ReadOnlySpan<byte> Bytes(ref SpanByteAndMemory output) =>
        output.IsSpanByte ? output.SpanByte.AsReadOnlySpan() : output.Memory.Memory.Span[..output.Length];

    /// <summary>Copies <paramref name="src"/>'s bytes, metadata included, and its metadata bit (dst has none and is as long).</summary>
    static void Write(ref SpanByte src, ref SpanByte dst)
    {
        src.AsReadOnlySpanWithMetadata().CopyTo(dst.AsSpanWithMetadata());
        if (src.MetadataSize > 0) dst.MarkExtraMetadata();
    }

    void Copy(ref SpanByte value, ref SpanByteAndMemory dst)
    {
        var payload = value.AsReadOnlySpan();
        int length = ExpirySize + payload.Length;
        // Always on the heap (the base class's pool, MemoryPool<byte>.Shared): callers pass no buffer of their own.
        dst.ConvertToHeap();
        dst.Memory = MemoryPool<byte>.Shared.Rent(length);
        dst.Length = length;
        var bytes = dst.Memory.Memory.Span;
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value.ExtraMetadata);
        payload.CopyTo(bytes[ExpirySize..]);
    }
}
