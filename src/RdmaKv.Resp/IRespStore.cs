using RdmaKv.Core;

namespace RdmaKv.Resp;

/// <summary>
/// What the gateway needs of a node: the server implements it over its StorageNode, so this
/// project never references the server (the same direction as the admin plane's IAdminNode).
/// </summary>
public interface IRespStore
{
    /// <summary>The node's name, for INFO.</summary>
    string Name { get; }

    /// <summary>Ok with the value, or NotFound; a cold value is read from the store, as a client's fallback GET is.</summary>
    StoreStatus Get(ReadOnlySpan<byte> key, out byte[]? value);

    StoreStatus Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Ok when the key was there and is gone, NotFound when there was none.</summary>
    StoreStatus Delete(ReadOnlySpan<byte> key);

    /// <summary>
    /// Reads the key's value and applies what <paramref name="decide"/> makes of it, with no other
    /// write to the key in between (on the key's owner, under its partition's lock).
    /// <paramref name="decide"/> returns Write false to leave the key, Write true with a value to
    /// put it, Write true with null to delete it. <paramref name="previous"/> is the value it saw.
    /// </summary>
    StoreStatus Update(ReadOnlySpan<byte> key, Func<byte[]?, (bool Write, byte[]? Value)> decide, out byte[]? previous);

    /// <summary>Keys this node holds.</summary>
    long KeyCount { get; }

    /// <summary>The node's counters (its stats map), for INFO.</summary>
    IReadOnlyDictionary<string, long> Stats();

    /// <summary>Slots in the cluster, or null for a node on its own.</summary>
    int? SlotCount { get; }

    /// <summary>The key's slot, and where its owner's gateway is when it is not this node (null when this node serves it).</summary>
    string? Redirect(ReadOnlySpan<byte> key, out int slot);

    /// <summary>Compares a presented client token with the node's, in constant time.</summary>
    bool Authenticate(ReadOnlySpan<byte> token);
}
