using RdmaKv.Core;
using RdmaKv.Transport;

namespace RdmaKv.Client;

/// <summary>One partition's region as a local client sees it: a read-only mapping of the node's file.</summary>
sealed class MappedPartition(MappedRegionFile file, ulong generation) : IPartitionReader
{
    public ulong Generation { get; } = generation;

    public LookupResult Lookup(ReadOnlySpan<byte> key, KeyHash hash, LocationCache cache, ReaderContext context)
    {
        if (!file.TryLease(out var access)) return LookupResult.Stale;
        try
        {
            return TableReader.Lookup(ref access, file.Header, key, hash, cache, context);
        }
        finally
        {
            file.Unlease();
        }
    }

    public void Dispose() => file.Dispose();
}
