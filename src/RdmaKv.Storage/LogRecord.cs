using System.Buffers.Binary;
using RdmaKv.Core;

namespace RdmaKv.Storage;

/// <summary>What a log record does.</summary>
public enum LogOp : byte
{
    Put = 1,
    Delete = 2,
}

/// <summary>
/// One record of the append-only log (FASTER adds its own length and per-entry checksum around it).
/// <code>
/// byte 0    1           3             7
///     +----+-----------+-------------+-----+-------+
///     | op | key len   | value len   | key | value |
///     +----+-----------+-------------+-----+-------+
/// </code>
/// Lengths are little-endian (u16, u32); a delete has value length 0.
/// </summary>
public static class LogRecord
{
    public const int HeaderSize = 7;

    public static int Length(int keyLength, int valueLength) => HeaderSize + keyLength + valueLength;

    public static int Write(Span<byte> destination, LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        destination[0] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[3..], (uint)value.Length);
        key.CopyTo(destination[HeaderSize..]);
        value.CopyTo(destination[(HeaderSize + key.Length)..]);
        return HeaderSize + key.Length + value.Length;
    }

    /// <summary>Reads a record; false when it is malformed (a damaged log).</summary>
    public static bool TryRead(ReadOnlySpan<byte> record, out LogOp op, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        op = default;
        key = value = default;
        if (record.Length < HeaderSize) return false;
        op = (LogOp)record[0];
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[1..]);
        uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(record[3..]);
        if (op is not (LogOp.Put or LogOp.Delete) || keyLength is 0 or > Limits.MaxKeyLength || valueLength > Limits.MaxValueLength
            || (op == LogOp.Delete && valueLength != 0) || record.Length != HeaderSize + keyLength + (int)valueLength)
            return false;
        key = record.Slice(HeaderSize, keyLength);
        value = record.Slice(HeaderSize + keyLength, (int)valueLength);
        return true;
    }
}
