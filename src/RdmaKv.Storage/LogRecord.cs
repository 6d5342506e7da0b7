using System.Buffers.Binary;
using RdmaKv.Core;

namespace RdmaKv.Storage;

/// <summary>What a log record does.</summary>
public enum LogOp : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>
    /// A put with an expiry, on disk only: <see cref="LogRecord.TryRead"/> returns it as
    /// <see cref="Put"/> with the expiry, so callers see puts and deletes only.
    /// </summary>
    PutExpiring = 3,
}

/// <summary>
/// One record of the append-only log (FASTER adds its own length and per-entry checksum around it).
/// <code>
/// Put, Delete:
/// byte 0    1           3             7
///     +----+-----------+-------------+-----+-------+
///     | op | key len   | value len   | key | value |
///     +----+-----------+-------------+-----+-------+
/// PutExpiring:
/// byte 0    1           3             7            15
///     +----+-----------+-------------+------------+-----+-------+
///     | op | key len   | value len   | expires at | key | value |
///     +----+-----------+-------------+------------+-----+-------+
/// </code>
/// Little-endian: lengths u16 and u32, expires at i64 (milliseconds since the Unix epoch, UTC,
/// above 0). A delete has value length 0. A put without expiry is written as <see cref="LogOp.Put"/>,
/// so logs written before expiry existed read as puts that never expire.
/// </summary>
public static class LogRecord
{
    public const int HeaderSize = 7;

    /// <summary>The expiry's size, after the header of a <see cref="LogOp.PutExpiring"/> record.</summary>
    public const int ExpirySize = 8;

    /// <summary>The record's length; <paramref name="expiresAt"/> 0 (never) writes a plain put or delete.</summary>
    public static int Length(int keyLength, int valueLength, long expiresAt = 0) =>
        HeaderSize + (expiresAt == 0 ? 0 : ExpirySize) + keyLength + valueLength;

    /// <summary>
    /// Writes a record and returns its length. A <see cref="LogOp.Put"/> with <paramref name="expiresAt"/>
    /// other than 0 is written as <see cref="LogOp.PutExpiring"/>; a delete takes no expiry.
    /// </summary>
    public static int Write(Span<byte> destination, LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0)
    {
        if (op == LogOp.PutExpiring) op = LogOp.Put;
        if (expiresAt < 0 || (expiresAt != 0 && op != LogOp.Put))
            throw new ArgumentOutOfRangeException(nameof(expiresAt), expiresAt, "an expiry is a time after the epoch, on a put only");
        int header = HeaderSize;
        destination[0] = (byte)(expiresAt == 0 ? op : LogOp.PutExpiring);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[3..], (uint)value.Length);
        if (expiresAt != 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(destination[HeaderSize..], expiresAt);
            header += ExpirySize;
        }
        key.CopyTo(destination[header..]);
        value.CopyTo(destination[(header + key.Length)..]);
        return header + key.Length + value.Length;
    }

    /// <summary>
    /// Reads a record; false when it is malformed (a damaged log). <paramref name="op"/> is
    /// <see cref="LogOp.Put"/> or <see cref="LogOp.Delete"/>; <paramref name="expiresAt"/> is the
    /// put's expiry, 0 when it never expires (always for a plain put and a delete).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> record, out LogOp op, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out long expiresAt)
    {
        op = default;
        key = value = default;
        expiresAt = 0;
        if (record.Length < HeaderSize) return false;
        var kind = (LogOp)record[0];
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[1..]);
        uint valueLength = BinaryPrimitives.ReadUInt32LittleEndian(record[3..]);
        int header = HeaderSize;
        if (kind == LogOp.PutExpiring)
        {
            if (record.Length < HeaderSize + ExpirySize) return false;
            expiresAt = BinaryPrimitives.ReadInt64LittleEndian(record[HeaderSize..]);
            header += ExpirySize;
        }
        if (kind is not (LogOp.Put or LogOp.Delete or LogOp.PutExpiring) || keyLength is 0 or > Limits.MaxKeyLength || valueLength > Limits.MaxValueLength
            || (kind == LogOp.Delete && valueLength != 0) || (kind == LogOp.PutExpiring && expiresAt <= 0)
            || record.Length != header + keyLength + (int)valueLength)
        {
            expiresAt = 0;
            return false;
        }
        op = kind == LogOp.Delete ? LogOp.Delete : LogOp.Put;
        key = record.Slice(header, keyLength);
        value = record.Slice(header + keyLength, (int)valueLength);
        return true;
    }
}
