using RdmaKv.Core;

namespace RdmaKv.Protocol;

/// <summary>
/// A decoded message. Key, value and pair spans point into the frame they were decoded from and
/// are valid as long as that buffer is. Which fields are set depends on <see cref="Type"/>.
/// </summary>
public readonly struct Message
{
    public MessageType Type { get; init; }
    public ulong Id { get; init; }
    public StoreStatus Status { get; init; }
    public ReadOnlyMemory<byte> Key { get; init; }
    public ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>Hello: the protocol version the client speaks.</summary>
    public int Version { get; init; }

    /// <summary>Hello: the client's name. Replies: the error detail, if any. Replication messages: a node id.</summary>
    public string? Text { get; init; }

    /// <summary>Replication messages: the sender's (or for Fence, the fenced node's) map epoch.</summary>
    public long Epoch { get; init; }

    /// <summary>Hello: the credential presented.</summary>
    public string? Credential { get; init; }

    /// <summary>ValueReply: whether a value is present (a value may be empty).</summary>
    public bool HasValue { get; init; }

    /// <summary>Put, MovePut, ReplicaPut, ValueReply: the value's expiry (milliseconds since 1970, UTC); 0 for none.</summary>
    public long ExpiresAt { get; init; }

    public NodeView? Node { get; init; }
    public (ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)[]? Pairs { get; init; }

    /// <summary>MultiPut, Import: each pair's expiry (0 for none), or null when no pair has one.</summary>
    public long[]? PairExpiries { get; init; }
    public IReadOnlyDictionary<string, long>? Stats { get; init; }
}
