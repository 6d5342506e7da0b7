using System.Buffers;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.Server;

/// <summary>Read-modify-write on one key (the RESP gateway's INCR, SET NX/XX/GET, GETDEL), and a GET that returns the value.</summary>
public sealed partial class StorageNode
{
    /// <summary>
    /// Reads <paramref name="key"/>'s value and applies what <paramref name="decide"/> makes of it
    /// while holding the key's partition order lock, which every client write to that partition takes (the lock
    /// is reentrant, so the public <see cref="Put(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> and
    /// <see cref="Delete(ReadOnlySpan{byte})"/> apply it as any write): no write to the key comes
    /// between the read and the write. <paramref name="decide"/> returns Write false to leave the
    /// key, Write true with a value to put it, Write true with null to delete it.
    /// </summary>
    public StoreStatus Update(ReadOnlySpan<byte> key, Func<byte[]?, (bool Write, byte[]? Value)> decide, out byte[]? previous)
    {
        previous = null;
        StoreStatus valid = StoreStatusText.Validate(key.Length, 0);
        if (valid != StoreStatus.Ok) return valid;
        var partition = PartitionOf(key);
        lock (partition.Order)
        {
            if (NotOwned(key) is not null) return StoreStatus.WrongSlot;
            lock (partition.Lock) previous = CurrentValue(partition, key)?.Value; // the new value keeps no expiry (as Redis's SET; unlike its INCR)
            var (write, value) = decide(previous);
            if (!write) return StoreStatus.Ok;
            if (value is not null) return Put(key, value);
            return previous is null ? StoreStatus.NotFound : Delete(key);
        }
    }

    /// <summary>Ok with the key's value, or NotFound: the same path as a client's fallback GET (a cold value comes back into the region).</summary>
    public StoreStatus Read(ReadOnlySpan<byte> key, out byte[]? value) => Read(key, out value, out _);

    /// <summary>As <see cref="Read(ReadOnlySpan{byte}, out byte[])"/>, with the value's expiry (0 for none).</summary>
    public StoreStatus Read(ReadOnlySpan<byte> key, out byte[]? value, out long expiresAt)
    {
        var reply = new ArrayBufferWriter<byte>(256);
        Get(key, 0, reply);
        // The encoder frames the reply: its length prefix comes first.
        if (!MessageDecoder.TryDecode(reply.WrittenMemory[Wire.LengthPrefix..], out var message, out string error))
            throw new InvalidOperationException($"the node encoded a GET reply it cannot decode: {error}");
        value = message.Status == StoreStatus.Ok && message.HasValue ? message.Value.ToArray() : null;
        expiresAt = message.ExpiresAt;
        return message.Status;
    }
}
