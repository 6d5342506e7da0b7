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
}
