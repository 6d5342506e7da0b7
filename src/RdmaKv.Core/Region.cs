using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RdmaKv.Core;

/// <summary>
/// A writable region: the header page, the bucket index and the extent area, laid out in
/// <see cref="RegionMemory"/>. Only the partition's writer changes it.
/// </summary>
public sealed unsafe class Region : IDisposable
{
    readonly RegionMemory _memory;
    readonly byte* _base;

    public Region(RegionMemory memory, RegionHeader header)
    {
        if (memory.Length < header.RegionSize)
            throw new ArgumentException($"region memory of {memory.Length} bytes is smaller than the {header.RegionSize} the header needs");
        _memory = memory;
        _base = memory.Pointer;
        Header = header;
        header.Write(new Span<byte>(_base, RegionHeader.Size));
    }

    public RegionHeader Header { get; }
    public RegionMemory Memory => _memory;
    public byte* Base => _base;
    public long Length => Header.RegionSize;

    public RegionState State
    {
        get => (RegionState)Volatile.Read(ref *(ulong*)(_base + RegionHeader.StateOffset));
        set => Volatile.Write(ref *(ulong*)(_base + RegionHeader.StateOffset), (ulong)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong* BucketAddress(ulong bucket)
    {
        Debug.Assert(bucket < (ulong)Header.BucketCount, "bucket index out of range");
        return (ulong*)(_base + RegionHeader.IndexOffset + (long)bucket * Bucket.Size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IndexEntry ReadEntry(ulong bucket, int index) => new(Volatile.Read(ref BucketAddress(bucket)[index + 1]));

    /// <summary>Stores one entry, bracketed by the bucket version going odd then even.</summary>
    public void PublishEntry(ulong bucket, int index, IndexEntry entry)
    {
        ulong* b = BucketAddress(bucket);
        ulong version = Volatile.Read(ref b[0]);
        Debug.Assert((version & 1) == 0, "a live bucket's version is even between writes");
        Volatile.Write(ref b[0], version + 1);
        Interlocked.MemoryBarrier(); // the odd version is visible before the entry changes
        Volatile.Write(ref b[index + 1], entry.Raw);
        Volatile.Write(ref b[0], version + 2);
    }

    public Span<byte> Bytes(long offset, int length)
    {
        Debug.Assert(offset >= 0 && offset + length <= Length, "byte range outside the region");
        return new Span<byte>(_base + offset, length);
    }

    public ref ExtentHeader ExtentAt(long offset) => ref *(ExtentHeader*)(_base + offset);

    /// <summary>Marks an extent superseded with one atomic store; readers then reject it. An offset outside the extent area is ignored.</summary>
    public void Supersede(long offset) => RegionRetirement.Supersede(_base, Header, offset);

    public void Dispose() => _memory.Dispose();
}
