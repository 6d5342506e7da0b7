namespace RdmaKv.Bench.Stores;

/// <summary>A store under test: what it is, and a session per worker thread.</summary>
public interface IBenchStore : IDisposable
{
    /// <summary>What the report calls it: RdmaKv, Redis, Garnet.</summary>
    string Store { get; }

    /// <summary>How the client reaches it, said plainly (shared memory, RESP over TCP loopback, UCX).</summary>
    string Transport { get; }

    /// <summary>The server's own description (version), when it gives one.</summary>
    string? ServerInfo { get; }

    /// <summary>A session for one worker thread; used by that thread only.</summary>
    IStoreSession OpenSession();
}

/// <summary>One worker thread's view of a store. Records are one value each (the fields back to back).</summary>
public interface IStoreSession : IDisposable
{
    /// <summary>Reads the record into <paramref name="buffer"/>; returns its length, or -1 when it is absent.</summary>
    int Read(ReadOnlySpan<byte> key, Span<byte> buffer);

    /// <summary>Stores the whole record (insert and update alike: a hash store has no partial update).</summary>
    void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>
    /// Extra attempts this session's operations have needed so far (for RdmaKv: re-reads of a
    /// bucket or extent that changed under the reader, view refreshes, fallback GETs), or null
    /// when the client does not report any.
    /// </summary>
    long? Retries { get; }
}
