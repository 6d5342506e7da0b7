using RdmaKv.Client;

namespace RdmaKv.Bench.Stores;

/// <summary>An RdmaKv node by URI (<c>local:NAME</c>, <c>ucx://HOST:PORT</c>): one client shared by every worker thread, as the client is designed to be used.</summary>
public sealed class RdmaKvStore : IBenchStore
{
    readonly KvClient _client;

    public RdmaKvStore(string uri, string transport)
    {
        _client = KvClient.Connect(uri);
        Transport = transport;
        ServerInfo = $"node '{_client.NodeName}'";
    }

    public string Store => "RdmaKv";
    public string Transport { get; }
    public string? ServerInfo { get; }

    public IStoreSession OpenSession() => new Session(_client);

    public void Dispose() => _client.Dispose();

    sealed class Session(KvClient client) : IStoreSession
    {
        public int Read(ReadOnlySpan<byte> key, Span<byte> buffer) =>
            client.TryGet(key, buffer, out int length) ? length : -1;

        public void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => client.Put(key, value);

        public long? Retries
        {
            get
            {
                // The counters are per thread; a session is used by its own thread only.
                var reads = KvClient.ThreadReads;
                return reads.Retries + reads.Refreshes + reads.Fallbacks;
            }
        }

        public void Dispose()
        {
        }
    }
}
