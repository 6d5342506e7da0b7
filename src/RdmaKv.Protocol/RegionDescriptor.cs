namespace RdmaKv.Protocol;

/// <summary>
/// Where a client finds one partition's current region. A local client maps <see cref="Path"/>;
/// a remote one reads <see cref="RemoteAddress"/> with <see cref="RemoteKey"/> (a packed rkey).
/// </summary>
public sealed record RegionDescriptor(
    int Partition,
    ulong Generation,
    long Length,
    string? Path,
    ulong RemoteAddress = 0,
    byte[]? RemoteKey = null);

/// <summary>A node's answer to Hello and to Regions: who it is and where its partitions live.</summary>
public sealed record NodeView(
    int ProtocolVersion,
    string NodeName,
    int PartitionCount,
    ulong HashSeed,
    IReadOnlyList<RegionDescriptor> Regions);
