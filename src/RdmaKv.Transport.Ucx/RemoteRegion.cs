namespace RdmaKv.Transport.Ucx;


/// <summary>A region of a remote node a client may READ: its address there and the unpacked rkey.</summary>
public sealed class RemoteRegion(UcpRemoteKeyHandle key, ulong address, long length) : IDisposable
{
    internal nint Key { get; } = key.DangerousGetHandle();
    internal UcpRemoteKeyHandle KeyHandle { get; } = key;
    public ulong Address { get; } = address;
    public long Length { get; } = length;

    /// <summary>Set once the connection that unpacked the key has failed or closed.</summary>
    public bool IsClosed { get; internal set; }

    public void Dispose() { } // keys are released on the connection's progress thread when it closes
}

/// <summary>One READ of a batch: <paramref name="Length"/> bytes at <paramref name="Offset"/> of <paramref name="Region"/>.</summary>
public readonly record struct ReadPart(RemoteRegion Region, long Offset, int Length);

public sealed record UcxClientOptions
{
    /// <summary>How long a request or READ may take before the client reports the node unreachable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a caller drives the worker itself, waiting for its completion, before it blocks.</summary>
    public TimeSpan Spin { get; init; } = TimeSpan.FromMicroseconds(50);

    /// <summary>
    /// How long the client's progress thread busy-polls before it sleeps. Zero by default: the
    /// caller already spins for its completion, and two spinners on a small machine take turns
    /// instead of working (64 B READ p50 29 us with 0, 134 us with 200 us, on 2 vCPUs).
    /// </summary>
    public TimeSpan ProgressSpin { get; init; } = TimeSpan.Zero;
}
