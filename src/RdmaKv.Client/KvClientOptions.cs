namespace RdmaKv.Client;

/// <summary>How a client connects and behaves. Every default is here.</summary>
public sealed record KvClientOptions
{
    /// <summary>Sent to the node in Hello; shows in the node's logs.</summary>
    public string ClientName { get; init; } = $"rdmakv-client/{Environment.ProcessId}";

    /// <summary>How long a local caller spins for a reply before it blocks (a thread wake-up costs far more than a request; docs/measurements.md).</summary>
    public TimeSpan SpinBeforeBlock { get; init; } = TimeSpan.FromMicroseconds(50);

    /// <summary>
    /// How long a remote (ucx://) caller drives its connection's UCX worker itself while it waits
    /// for a READ or a reply, before it blocks and leaves the worker to the progress thread.
    /// Driving saves two thread wake-ups per round trip (docs/measurements.md, Remote, has the
    /// cached GET p50 with and without).
    /// </summary>
    public TimeSpan RemoteSpin { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How puts and deletes reach a local node: a shared-memory mailbox (default, fastest) or socket writes.</summary>
    public LocalWritePath LocalWrites { get; init; } = LocalWritePath.Mailbox;

    /// <summary>Entries of the location cache that makes a hot GET one read.</summary>
    public int LocationCacheEntries { get; init; } = 1 << 18;

    /// <summary>
    /// The credential a remote (ucx://) node asks for in Hello: its client-token file's content.
    /// Null means $RDMAKV_TOKEN, else the file named by $RDMAKV_TOKEN_FILE. Local nodes need none.
    /// </summary>
    public string? Credential { get; init; }

    /// <summary>How long a remote request or READ may take before the client reports the node unreachable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a thread that reads reports its one-sided lookups, retries and checksum failures
    /// to the node (which cannot see them), piggybacked on its next GET; infinite turns it off.
    /// </summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where node directories are; null means $RDMAKV_SHM_DIR, else /dev/shm.</summary>
    public string? SharedMemoryRoot { get; init; }

    /// <summary>
    /// The uid a local node's directory, socket and regions must belong to; null means this
    /// process's user or root. A node directory anyone else owns is refused: its owner could serve
    /// forged values.
    /// </summary>
    public uint? NodeOwner { get; init; }
}

/// <summary>The two ways a local client's requests reach its node.</summary>
public enum LocalWritePath
{
    /// <summary>Requests and replies in a shared-memory file, with the socket as doorbell.</summary>
    Mailbox,

    /// <summary>Every request and reply written to the Unix socket.</summary>
    Socket,
}
