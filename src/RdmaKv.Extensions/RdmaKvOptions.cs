using RdmaKv.Client;

namespace RdmaKv.Extensions;

/// <summary>
/// How the application's shared <see cref="KvClient"/> connects, bound from configuration
/// (<c>"RdmaKv": { "Connect": "local:default" }</c>) or set in code. Every property left unset
/// keeps <see cref="KvClientOptions"/>' default.
/// </summary>
public sealed class RdmaKvOptions
{
    /// <summary>
    /// The node or cluster to connect to, as <see cref="KvClient.Connect"/> takes it:
    /// <c>local:NAME</c> (a node on this host), <c>ucx://HOST:PORT</c> (a node anywhere),
    /// <c>ucx://HOST:PORT,HOST:PORT</c> (cluster seeds) or <c>cluster:FILE</c>. Required.
    /// </summary>
    public string? Connect { get; set; }

    /// <summary>
    /// The client token a remote (<c>ucx://</c>, cluster) node asks for: the content of the node's
    /// <c>DATA_DIR/client-token</c>. Null means <see cref="TokenFile"/>, then <c>$RDMAKV_TOKEN</c>,
    /// then the file <c>$RDMAKV_TOKEN_FILE</c> names. Local nodes need none.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>A file holding the client token (the node's <c>DATA_DIR/client-token</c>), read when the client connects; used when <see cref="Token"/> is null.</summary>
    public string? TokenFile { get; set; }

    /// <summary>How long a remote request may take before it fails as unreachable; null keeps the client's default (5 s).</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>The name the client gives the node in its hello (it shows in the node's log); null keeps the client's default.</summary>
    public string? ClientName { get; set; }

    /// <summary>How puts and deletes reach a local node; null keeps the client's default (<see cref="LocalWritePath.Mailbox"/>).</summary>
    public LocalWritePath? LocalWrites { get; set; }

    /// <summary>Entries of the client's location cache (what makes a hot GET one read); null keeps the client's default.</summary>
    public int? LocationCacheEntries { get; set; }

    /// <summary>Where local nodes keep their shared memory; null means <c>$RDMAKV_SHM_DIR</c>, else <c>/dev/shm</c>.</summary>
    public string? SharedMemoryRoot { get; set; }

    /// <summary>The client options these settings make; reads <see cref="TokenFile"/> when no <see cref="Token"/> is given.</summary>
    public KvClientOptions ToClientOptions()
    {
        var defaults = new KvClientOptions();
        string? credential = Token;
        if (string.IsNullOrEmpty(credential) && !string.IsNullOrEmpty(TokenFile)) credential = File.ReadAllText(TokenFile).Trim();
        return defaults with
        {
            Credential = string.IsNullOrEmpty(credential) ? null : credential,
            Timeout = Timeout ?? defaults.Timeout,
            ClientName = ClientName ?? defaults.ClientName,
            LocalWrites = LocalWrites ?? defaults.LocalWrites,
            LocationCacheEntries = LocationCacheEntries ?? defaults.LocationCacheEntries,
            SharedMemoryRoot = SharedMemoryRoot ?? defaults.SharedMemoryRoot,
        };
    }
}
