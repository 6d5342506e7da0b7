namespace RdmaKv.Transport.Ucx;


/// <summary>
/// A region of a remote node a client may READ. With a memory key (verbs transports, where the
/// NIC checks it): its address there and the unpacked rkey, read one-sided. Without one (tcp and
/// other transports where nothing would check a key): its partition and generation, read with
/// messages the node checks and serves (<see cref="MessageReads"/>).
/// </summary>
public sealed class RemoteRegion : IDisposable
{
    internal RemoteRegion(UcpRemoteKeyHandle key, int partition, ulong generation, ulong address, long length)
        : this(partition, generation, length)
    {
        KeyHandle = key;
        Key = key.DangerousGetHandle();
        Address = address;
    }

    internal RemoteRegion(int partition, ulong generation, long length)
    {
        Partition = partition;
        Generation = generation;
        Length = length;
    }

    internal nint Key { get; }
    internal UcpRemoteKeyHandle? KeyHandle { get; }
    public int Partition { get; }
    public ulong Generation { get; }
    public ulong Address { get; }
    public long Length { get; }

    /// <summary>True when READs are one-sided (an rkey); false when the node serves them as messages.</summary>
    public bool OneSided => KeyHandle is not null;

    /// <summary>Set once the connection that unpacked the key has failed or closed.</summary>
    public bool IsClosed { get; internal set; }

    public void Dispose() { } // keys are released, holding the worker, when the connection closes
}

/// <summary>One READ of a batch: <paramref name="Length"/> bytes at <paramref name="Offset"/> of <paramref name="Region"/>.</summary>
public readonly record struct ReadPart(RemoteRegion Region, long Offset, int Length);

public sealed record UcxClientOptions
{
    /// <summary>How long a request or READ may take before the client reports the node unreachable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a caller drives the worker itself, waiting for its completion, before it blocks.</summary>
    public TimeSpan Spin { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// How long the client's progress thread busy-polls before it sleeps. Zero by default: a
    /// waiting caller drives the worker itself, and two spinners on a small machine take turns
    /// instead of working.
    /// </summary>
    public TimeSpan ProgressSpin { get; init; } = TimeSpan.Zero;

    /// <summary>What the client presents in the handshake (<see cref="UcxHandshake"/>): the node's client token, or null for none.</summary>
    public string? Credential { get; init; }

    /// <summary>The application's protocol version, which the node checks in the handshake.</summary>
    public int ProtocolVersion { get; init; }

    /// <summary>Replies longer than this are dropped unread and fail the connection (the protocol's frame limit).</summary>
    public long MaxReplyLength { get; init; } = 4 << 20;

    /// <summary>
    /// The endpoints the client process expects to hold (ucp_params_t.estimated_num_eps): the
    /// number of nodes it talks to. The client library should pass the map's node count; the
    /// default is the planned cluster size of docs/scale.md. UCX_NUM_EPS, when set, overrides it.
    /// </summary>
    public int EstimatedEndpoints { get; init; } = DefaultEstimatedEndpoints;

    /// <summary>The default <see cref="EstimatedEndpoints"/>: 100 nodes.</summary>
    public const int DefaultEstimatedEndpoints = 100;
}
