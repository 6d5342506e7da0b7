using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace RdmaKv.Core;

/// <summary>
/// The header of an extent: one key and its value, written whole and never changed in place.
/// <code>
/// byte 0       8          16        20          24         32           40
///     +-------+----------+---------+-----------+----------+------------+-----+-------+---------+
///     | state | checksum | key len | value len | sequence | expires at | key | value | padding |
///     +-------+----------+---------+-----------+----------+------------+-----+-------+---------+
/// </code>
/// The checksum (XxHash3, seed 0) covers every byte from offset 16 to the end of the value.
/// Expires at is the absolute expiry in milliseconds since the Unix epoch (UTC), 0 for none: a
/// reader takes an extent whose expiry has passed by its own clock as absent (region format 2).
/// The state word lies outside it: the writer sets <see cref="SupersededFlag"/> with one atomic
/// store when a newer version or a delete replaces the extent. The extent is padded to 64 bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct ExtentHeader
{
    public const int Size = 40;
    public const ulong SupersededFlag = 1;
    public const int ChecksumOffset = 8;
    public const int ChecksumStart = 16;
    public const int KeyLengthOffset = 16;
    public const int ValueLengthOffset = 20;
    public const int SequenceOffset = 24;
    public const int ExpiresAtOffset = 32;

    [FieldOffset(0)] public ulong State;
    [FieldOffset(8)] public ulong Checksum;
    [FieldOffset(16)] public uint KeyLength;
    [FieldOffset(20)] public uint ValueLength;
    [FieldOffset(24)] public ulong Sequence;
    [FieldOffset(32)] public long ExpiresAt;

    /// <summary>Bytes an extent with this key and value occupies, a multiple of 64.</summary>
    public static int ExtentLength(int keyLength, int valueLength) => ExtentUnits.RoundUp(Size + keyLength + valueLength);

    /// <summary>
    /// Writes a whole extent into <paramref name="destination"/>, its state word last: superseded
    /// while the bytes are written, clear once they all are. A reader on a stale location of this
    /// memory (an older extent of the same key, freed and reused) reads the state first, so it
    /// sees either "superseded" or the whole new extent, never a clear state over old bytes.
    /// </summary>
    public static void Write(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt = 0)
    {
        int used = Size + key.Length + value.Length;
        ref ulong state = ref MemoryMarshal.Cast<byte, ulong>(destination)[0];
        Volatile.Write(ref state, SupersededFlag);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], (uint)value.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[ExpiresAtOffset..], expiresAt);
        key.CopyTo(destination[Size..]);
        value.CopyTo(destination[(Size + key.Length)..]);
        destination[used..ExtentLength(key.Length, value.Length)].Clear();
        ulong checksum = XxHash3.HashToUInt64(destination[ChecksumStart..used]);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], checksum);
        Volatile.Write(ref state, 0); // a release: every byte above is visible before the clear state
    }
}
