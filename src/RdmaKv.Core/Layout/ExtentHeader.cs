using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace RdmaKv.Core;

/// <summary>
/// The header of an extent: one key and its value, written whole and never changed in place.
/// <code>
/// byte 0       8          16        20          24         32
///     +-------+----------+---------+-----------+----------+-----+-------+---------+
///     | state | checksum | key len | value len | sequence | key | value | padding |
///     +-------+----------+---------+-----------+----------+-----+-------+---------+
/// </code>
/// The checksum (XxHash3, seed 0) covers every byte from offset 16 to the end of the value.
/// The state word lies outside it: the writer sets <see cref="SupersededFlag"/> with one atomic
/// store when a newer version or a delete replaces the extent. The extent is padded to 64 bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct ExtentHeader
{
    public const int Size = 32;
    public const ulong SupersededFlag = 1;
    public const int ChecksumStart = 16;

    [FieldOffset(0)] public ulong State;
    [FieldOffset(8)] public ulong Checksum;
    [FieldOffset(16)] public uint KeyLength;
    [FieldOffset(20)] public uint ValueLength;
    [FieldOffset(24)] public ulong Sequence;

    /// <summary>Bytes an extent with this key and value occupies, a multiple of 64.</summary>
    public static int ExtentLength(int keyLength, int valueLength) => (Size + keyLength + valueLength + 63) & ~63;

    /// <summary>Writes a whole extent (state clear) into <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence)
    {
        int used = Size + key.Length + value.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(destination, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)key.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], (uint)value.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], sequence);
        key.CopyTo(destination[Size..]);
        value.CopyTo(destination[(Size + key.Length)..]);
        destination[used..ExtentLength(key.Length, value.Length)].Clear();
        ulong checksum = XxHash3.HashToUInt64(destination[ChecksumStart..used]);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], checksum);
    }
}
