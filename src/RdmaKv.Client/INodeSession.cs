using System.Buffers;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Client;

/// <summary>One partition's current region as a client reads it, wherever it lives.</summary>
interface IPartitionReader : IDisposable
{
    ulong Generation { get; }

    LookupResult Lookup(ReadOnlySpan<byte> key, KeyHash hash, LocationCache cache, ReaderContext context);
}

/// <summary>A client's session with one node, over whichever transport reaches it.</summary>
interface INodeSession : IDisposable
{
    NodeView View { get; }

    IPartitionReader Partition(int partition);

    /// <summary>Asks the node where its regions are now and maps those that changed.</summary>
    void Refresh();

    byte[]? FallbackGet(ReadOnlySpan<byte> key);

    /// <summary>The node's answer to a GET message: the value (null when absent) and its expiry (0 for none).</summary>
    (byte[]? Value, long ExpiresAt) FallbackGetWithExpiry(ReadOnlySpan<byte> key);

    /// <summary>Values of several keys, in order; <paramref name="single"/> resolves each key this session does not batch.</summary>
    byte[]?[] MultiGet(IReadOnlyList<byte[]> keys, LocationCache cache, ReaderContext context, Func<byte[], byte[]?> single);

    void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt);

    bool Delete(ReadOnlySpan<byte> key);

    void PutMany(IReadOnlyList<(byte[] Key, byte[] Value)> pairs);

    IReadOnlyDictionary<string, long> Stats();

    /// <summary>The node's cluster map (its JSON), or null when the node is on its own.</summary>
    string? ClusterMapJson();

    /// <summary>Sends a client's counters (ClientReport) to the node.</summary>
    void Report(IReadOnlyDictionary<string, long> counters);

    ValueTask<StoreStatus> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long expiresAt, CancellationToken cancel);

    ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancel);
}
