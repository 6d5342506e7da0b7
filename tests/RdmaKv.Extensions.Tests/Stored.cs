using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using RdmaKv.Client;

namespace RdmaKv.Extensions.Tests;

/// <summary>An entry as the node holds it, read with a raw client (which never refreshes), in the layout the cache documents.</summary>
readonly record struct Stored(byte Version, long AbsoluteMs, long SlidingMs, long StoreExpiryMs, byte[] Value)
{
    public const int HeaderSize = 25;

    public static Stored? Read(KvClient raw, string instance, string key)
    {
        byte[]? bytes = raw.Get(Encoding.UTF8.GetBytes(instance + key));
        if (bytes is null) return null;
        Assert.True(bytes.Length >= HeaderSize, $"the stored entry is {bytes.Length} bytes, shorter than its header");
        return new Stored(
            bytes[0],
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(1)),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(9)),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(17)),
            bytes[HeaderSize..]);
    }

    public static bool Present(KvClient raw, string instance, string key) => raw.Get(Encoding.UTF8.GetBytes(instance + key)) is not null;
}

/// <summary>A sequence of several segments, as a pipe hands them over.</summary>
sealed class Segment : ReadOnlySequenceSegment<byte>
{
    Segment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int pieces)
    {
        int size = Math.Max(1, bytes.Length / pieces);
        var first = new Segment(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        var last = first;
        for (int at = last.Memory.Length; at < bytes.Length; at += size)
        {
            var next = new Segment(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), at);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
