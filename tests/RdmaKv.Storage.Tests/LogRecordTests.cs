using System.Buffers.Binary;

namespace RdmaKv.Storage.Tests;

/// <summary><see cref="LogRecord"/>'s bytes: the layout before expiry stays, a put with an expiry gets its own op, damage is refused.</summary>
public sealed class LogRecordTests
{
    const long Expiry = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z

    static byte[] Record(LogOp op, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0)
    {
        var record = new byte[LogRecord.Length(key.Length, value.Length, expiresAt)];
        Assert.Equal(record.Length, LogRecord.Write(record, op, key, value, expiresAt));
        return record;
    }

    [Fact]
    public void PlainPutsAndDeletesKeepTheBytesOfLogsWrittenBeforeExpiry()
    {
        Assert.Equal([1, 2, 0, 3, 0, 0, 0, (byte)'a', (byte)'b', (byte)'x', (byte)'y', (byte)'z'], Record(LogOp.Put, "ab"u8, "xyz"u8));
        Assert.Equal([2, 2, 0, 0, 0, 0, 0, (byte)'a', (byte)'b'], Record(LogOp.Delete, "ab"u8, default));

        // A put as the code before expiry wrote it reads as a put that never expires.
        Assert.True(LogRecord.TryRead([1, 1, 0, 2, 0, 0, 0, (byte)'k', (byte)'v', (byte)'w'], out var op, out var key, out var value, out long expiresAt));
        Assert.Equal(LogOp.Put, op);
        Assert.Equal("k"u8.ToArray(), key.ToArray());
        Assert.Equal("vw"u8.ToArray(), value.ToArray());
        Assert.Equal(0, expiresAt);
    }

    [Fact]
    public void APutWithAnExpiryCarriesItLittleEndianAfterTheHeaderAndReadsBackAsAPut()
    {
        byte[] record = Record(LogOp.Put, "ab"u8, "xyz"u8, Expiry);

        Assert.Equal(LogRecord.HeaderSize + LogRecord.ExpirySize + 5, record.Length);
        Assert.Equal((byte)LogOp.PutExpiring, record[0]);
        Assert.Equal([2, 0, 3, 0, 0, 0], record[1..7]);
        Assert.Equal(Expiry, BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(7)));
        Assert.Equal("abxyz"u8.ToArray(), record[15..]);
        Assert.True(LogRecord.TryRead(record, out var op, out var key, out var value, out long expiresAt));
        Assert.Equal(LogOp.Put, op);
        Assert.Equal("ab"u8.ToArray(), key.ToArray());
        Assert.Equal("xyz"u8.ToArray(), value.ToArray());
        Assert.Equal(Expiry, expiresAt);
    }

    [Fact]
    public void AnExpiringPutWithAnEmptyValueReadsBack()
    {
        Assert.True(LogRecord.TryRead(Record(LogOp.Put, "k"u8, default, 1), out var op, out _, out var value, out long expiresAt));
        Assert.Equal(LogOp.Put, op);
        Assert.True(value.IsEmpty);
        Assert.Equal(1, expiresAt);
    }

    [Fact]
    public void AnExpiryIsRefusedOnADeleteAndBeforeTheEpoch()
    {
        var buffer = new byte[64];
        Assert.Throws<ArgumentOutOfRangeException>(() => LogRecord.Write(buffer, LogOp.Delete, "k"u8, default, Expiry));
        Assert.Throws<ArgumentOutOfRangeException>(() => LogRecord.Write(buffer, LogOp.Put, "k"u8, "v"u8, -1));
    }

    public static TheoryData<string, byte[]> MalformedExpiringPuts()
    {
        byte[] good = Record(LogOp.Put, "key"u8, "value"u8, Expiry);
        var data = new TheoryData<string, byte[]>();
        for (int length = 0; length < good.Length; length++) data.Add($"cut to {length} bytes", good[..length]);
        data.Add("a byte too many", [.. good, 0]);
        data.Add("expiry 0", WithExpiry(good, 0));
        data.Add("expiry before the epoch", WithExpiry(good, -1));
        data.Add("expiry long.MinValue", WithExpiry(good, long.MinValue));
        data.Add("the header of an expiring put alone", [3, 0, 0, 0, 0, 0, 0]);
        data.Add("no key", [.. good[..1], 0, 0, .. good[3..15], .. "value"u8]);
        data.Add("expiring put read as a plain put's length", Patched(good, 0, (byte)LogOp.Put));
        data.Add("plain put with an expiry's bytes", Patched(Record(LogOp.Put, "key"u8, "value"u8), 0, (byte)LogOp.PutExpiring));
        data.Add("unknown op 4", Patched(good, 0, 4));
        return data;

        static byte[] WithExpiry(byte[] record, long expiresAt)
        {
            byte[] copy = [.. record];
            BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(LogRecord.HeaderSize), expiresAt);
            return copy;
        }

        static byte[] Patched(byte[] record, int at, byte value)
        {
            byte[] copy = [.. record];
            copy[at] = value;
            return copy;
        }
    }

    [Theory]
    [MemberData(nameof(MalformedExpiringPuts))]
    public void AMalformedExpiringPutIsRefused(string damage, byte[] record)
    {
        Assert.False(LogRecord.TryRead(record, out _, out _, out _, out long expiresAt), $"{damage} was read as a record");
        Assert.Equal(0, expiresAt);
    }

    /// <summary>
    /// Random and randomly damaged records: whatever reads is a put or a delete whose parts fill the
    /// record exactly, and writing those parts again gives the very same bytes.
    /// </summary>
    [Fact]
    public void WhateverRandomBytesReadAsIsExactlyWhatWritingItAgainGives()
    {
        var random = new Random(20261204);
        int read = 0, expiring = 0;
        var again = new byte[64 + LogRecord.HeaderSize + LogRecord.ExpirySize];
        for (int i = 0; i < 200_000; i++)
        {
            byte[] record = Candidate(random);
            if (!LogRecord.TryRead(record, out var op, out var key, out var value, out long expiresAt)) continue;
            read++;
            Assert.True(op is LogOp.Put or LogOp.Delete, $"op {op}");
            Assert.True(expiresAt >= 0);
            if (expiresAt > 0)
            {
                expiring++;
                Assert.Equal(LogOp.Put, op);
            }
            int length = LogRecord.Write(again, op, key, value, expiresAt);
            Assert.Equal(record, again[..length]);
        }
        // The candidates are near records, so all three kinds are read many times.
        Assert.True(read > 10_000, $"only {read} candidates read");
        Assert.True(expiring > 1_000, $"only {expiring} expiring puts read");
    }

    static byte[] Candidate(Random random)
    {
        var op = (LogOp)random.Next(0, 5);
        var key = new byte[random.Next(0, 8)];
        var value = new byte[random.Next(0, 8)];
        random.NextBytes(key);
        random.NextBytes(value);
        long expiresAt = random.Next(3) switch { 0 => 0, 1 => random.NextInt64(), _ => -random.NextInt64(1, long.MaxValue) };
        bool expiring = op == LogOp.PutExpiring || (op == LogOp.Put && expiresAt != 0);
        int header = LogRecord.HeaderSize + (expiring ? LogRecord.ExpirySize : 0);
        var record = new byte[header + key.Length + value.Length];
        record[0] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(1), (ushort)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(3), (uint)value.Length);
        if (expiring) BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(LogRecord.HeaderSize), expiresAt);
        key.CopyTo(record.AsSpan(header));
        value.CopyTo(record.AsSpan(header + key.Length));
        switch (random.Next(4))
        {
            case 0 when record.Length > 0: // a flipped byte
                record[random.Next(record.Length)] ^= (byte)random.Next(1, 256);
                break;
            case 1 when record.Length > 0: // a cut
                record = record[..random.Next(record.Length)];
                break;
            case 2: // a byte too many
                record = [.. record, (byte)random.Next(256)];
                break;
        }
        return record;
    }
}
