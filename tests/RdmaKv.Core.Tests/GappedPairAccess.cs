using System.Diagnostics;

namespace RdmaKv.Core.Tests;

/// <summary>
/// Mapped access whose paired reads sometimes complete far apart, as two RDMA READs in flight
/// may: on every <c>every</c>-th pair the thread waits 20 us between the two reads, so the writer can
/// act in the gap (a cuckoo move, an overwrite, a growth).
/// </summary>
unsafe struct GappedPairAccess(byte* baseAddress, long length, int every) : IRegionAccess
{
    readonly MappedRegionAccess _inner = new(baseAddress, length);
    int _pairs;

    public readonly bool Read(long offset, Span<byte> destination) => _inner.Read(offset, destination);

    public bool ReadPair(long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB)
    {
        if (!_inner.Read(offsetA, destinationA)) return false;
        if (++_pairs % every == 0)
        {
            long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 50_000; // 20 us
            while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
        }
        return _inner.Read(offsetB, destinationB);
    }
}
