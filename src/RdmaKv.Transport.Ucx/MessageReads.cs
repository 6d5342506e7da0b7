using System.Buffers.Binary;

namespace RdmaKv.Transport.Ucx;

/// <summary>What a node answers to one message READ.</summary>
public enum MessageReadStatus
{
    Ok = 0,
    /// <summary>The node no longer serves that generation of the region: refresh and retry.</summary>
    Stale = 1,
    OutOfBounds = 2,
    NotGreeted = 3,
    Malformed = 4,
}

/// <summary>One range of a message READ: <paramref name="Length"/> bytes at <paramref name="Offset"/> of a partition's region generation.</summary>
public readonly record struct MessageReadPart(int Partition, ulong Generation, long Offset, int Length);

/// <summary>
/// The wire format of READs served by the node's CPU instead of the NIC, for transports where the
/// NIC does not enforce memory keys (UCX over tcp and every non-verbs transport). A request names
/// (partition, generation, offset, length) for each part; the node checks each against the region
/// it serves under that generation and answers with the bytes back to back, or a status.
/// Request: [u64 id][i32 count] then count × [i32 partition][u64 generation][i64 offset][i32 length].
/// Reply: [u64 id][i32 status][i32 length] then the bytes.
/// </summary>
public static class MessageReads
{
    public const uint RequestId = 3;
    public const uint ReplyId = 4;
    public const int PartSize = 24;
    public const int RequestHeader = 12;
    public const int ReplyHeader = 16;

    /// <summary>The most bytes one request asks for; a client splits larger reads.</summary>
    public const int MaxReplyBytes = 1 << 20;

    /// <summary>The most parts one request names.</summary>
    public const int MaxParts = 256;

    public static int RequestLength(int parts) => RequestHeader + parts * PartSize;

    public static void WriteRequest(Span<byte> destination, ulong id, ReadOnlySpan<MessageReadPart> parts)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, id);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], parts.Length);
        var at = destination[RequestHeader..];
        foreach (var p in parts)
        {
            BinaryPrimitives.WriteInt32LittleEndian(at, p.Partition);
            BinaryPrimitives.WriteUInt64LittleEndian(at[4..], p.Generation);
            BinaryPrimitives.WriteInt64LittleEndian(at[12..], p.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(at[20..], p.Length);
            at = at[PartSize..];
        }
    }

    /// <summary>Reads a request's id and part count; false when the frame cannot be one (too short, a count out of range, or a length that disagrees).</summary>
    public static bool TryReadRequest(ReadOnlySpan<byte> frame, out ulong id, out int count)
    {
        id = 0;
        count = 0;
        if (frame.Length < RequestHeader) return false;
        id = BinaryPrimitives.ReadUInt64LittleEndian(frame);
        count = BinaryPrimitives.ReadInt32LittleEndian(frame[8..]);
        return count is > 0 and <= MaxParts && frame.Length == RequestLength(count);
    }

    public static MessageReadPart ReadPart(ReadOnlySpan<byte> frame, int index)
    {
        var at = frame[(RequestHeader + index * PartSize)..];
        return new MessageReadPart(
            BinaryPrimitives.ReadInt32LittleEndian(at),
            BinaryPrimitives.ReadUInt64LittleEndian(at[4..]),
            BinaryPrimitives.ReadInt64LittleEndian(at[12..]),
            BinaryPrimitives.ReadInt32LittleEndian(at[20..]));
    }

    public static void WriteReplyHeader(Span<byte> destination, ulong id, MessageReadStatus status, int length)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, id);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], (int)status);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], length);
    }

    public static bool TryReadReply(ReadOnlySpan<byte> frame, out ulong id, out MessageReadStatus status, out ReadOnlySpan<byte> data)
    {
        id = 0;
        status = MessageReadStatus.Malformed;
        data = default;
        if (frame.Length < ReplyHeader) return false;
        id = BinaryPrimitives.ReadUInt64LittleEndian(frame);
        status = (MessageReadStatus)BinaryPrimitives.ReadInt32LittleEndian(frame[8..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(frame[12..]);
        if (length < 0 || length != frame.Length - ReplyHeader) return false;
        data = frame[ReplyHeader..];
        return true;
    }
}
