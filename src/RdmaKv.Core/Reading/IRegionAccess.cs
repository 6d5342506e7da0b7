using System.Runtime.InteropServices;

namespace RdmaKv.Core;

/// <summary>
/// Reads bytes of one region, wherever it lives: mapped shared memory, or a remote node through
/// one-sided RDMA READs. The lookup in <see cref="TableReader"/> is written once against this.
/// A read that fails (region unmapped, link down) returns false; the reader then refreshes.
/// A read copies each aligned 8-byte word atomically; a bucket-sized read copies its words in
/// ascending order, so a bucket's version word is read before its entries (the seqlock order). Any
/// read reads its first word before the rest (an extent's state word before its bytes: see
/// <see cref="ExtentHeader.Write"/>); an RDMA NIC reads in ascending address order.
/// </summary>
public interface IRegionAccess
{
    bool Read(long offset, Span<byte> destination);

    /// <summary>Two reads in one round trip (both candidate buckets, or two extents).</summary>
    bool ReadPair(long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB);
}

/// <summary>Region access over memory this process has mapped (shared memory, or the writer's own).</summary>
public readonly unsafe struct MappedRegionAccess(byte* baseAddress, long length) : IRegionAccess
{
    public long Length => length;

    public bool Read(long offset, Span<byte> destination)
    {
        if ((ulong)offset > (ulong)length || (ulong)destination.Length > (ulong)(length - offset)) return false;
        if (destination.Length <= Bucket.Size && (offset & 7) == 0 && (destination.Length & 7) == 0)
        {
            ulong* source = (ulong*)(baseAddress + offset);
            Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination);
            for (int i = 0; i < words.Length; i++) words[i] = Volatile.Read(ref source[i]);
            return true;
        }
        if ((offset & 7) == 0 && destination.Length >= 8)
        {
            // The first word with acquire semantics, then the rest: nothing after it is older.
            ulong first = Volatile.Read(ref *(ulong*)(baseAddress + offset));
            new ReadOnlySpan<byte>(baseAddress + offset + 8, destination.Length - 8).CopyTo(destination[8..]);
            MemoryMarshal.Write(destination, in first);
            return true;
        }
        new ReadOnlySpan<byte>(baseAddress + offset, destination.Length).CopyTo(destination);
        return true;
    }

    public bool ReadPair(long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB) =>
        Read(offsetA, destinationA) && Read(offsetB, destinationB);
}
