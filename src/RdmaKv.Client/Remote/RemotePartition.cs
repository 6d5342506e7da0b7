using RdmaKv.Core;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Client;

/// <summary>One partition's region on a remote node, read with one-sided UCX READs.</summary>
sealed class RemotePartition(UcxClientConnection connection, RemoteRegion region, RegionHeader header) : IPartitionReader
{
    public ulong Generation => header.Generation;
    public RemoteRegion Region => region;
    public RegionHeader Header => header;

    public LookupResult Lookup(ReadOnlySpan<byte> key, KeyHash hash, LocationCache cache, ReaderContext context)
    {
        if (region.IsClosed) return LookupResult.Stale;
        var access = new RemoteRegionAccess(connection, region);
        return TableReader.Lookup(ref access, header, key, hash, cache, context);
    }

    public void Dispose() => region.Dispose();
}

/// <summary>
/// Region access through UCX: each read is a ucp_get_nbx (an RDMA READ on InfiniBand/RoCE); a
/// pair is two READs in flight at once. A failed READ returns false and the reader refreshes.
/// </summary>
readonly struct RemoteRegionAccess(UcxClientConnection connection, RemoteRegion region) : IRegionAccess
{
    public bool Read(long offset, Span<byte> destination) => connection.Read(region, offset, destination);

    public bool ReadPair(long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB) =>
        connection.Read(region, offsetA, destinationA, offsetB, destinationB);
}
