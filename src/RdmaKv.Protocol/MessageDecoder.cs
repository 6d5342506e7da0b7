using System.Buffers;
using MessagePack;
using RdmaKv.Core;

namespace RdmaKv.Protocol;

/// <summary>
/// Decodes one frame payload. Every length is checked against <see cref="Limits"/> and
/// <see cref="Wire"/> before it is used; any malformed input yields false and a reason, never an
/// exception, so a node can answer a bad frame with an error and keep serving.
/// </summary>
public static class MessageDecoder
{
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out Message message, out string error)
    {
        message = default;
        if (payload.Length > Wire.MaxFrameLength)
            return Fail(out error, $"frame of {payload.Length} bytes exceeds the limit of {Wire.MaxFrameLength}");
        try
        {
            var r = new MessagePackReader(payload);
            int count = r.ReadArrayHeader();
            if (count < 2 || count > 16) return Fail(out error, "a message is an array of 2 to 16 elements");
            var type = (MessageType)r.ReadByte();
            ulong id = r.ReadUInt64();
            message = type switch
            {
                MessageType.Hello => Expect(count, 5) with { Version = r.ReadInt32(), Text = Text(ref r), Credential = Text(ref r) },
                MessageType.HelloReply or MessageType.Regions when count >= 4 => ReadNodeView(ref r, count),
                MessageType.Put or MessageType.MovePut => Expect(count, 4, 5) with { Key = Key(ref r, payload), Value = Value(ref r, payload), ExpiresAt = count == 5 ? ExpiresAt(ref r) : 0 },
                MessageType.AdoptMap => Expect(count, 4) with { Key = Key(ref r, payload), Value = Value(ref r, payload) },
                MessageType.Delete or MessageType.Get or MessageType.MoveDelete or MessageType.MoveIn => Expect(count, 3) with { Key = Key(ref r, payload) },
                MessageType.MultiPut or MessageType.Import => ReadPairs(ref r, payload, count),
                MessageType.Regions or MessageType.Stats or MessageType.OpenMailbox or MessageType.ClusterMap => Expect(count, 2),
                MessageType.ReplicaPut => Expect(count, 6, 7) with { Epoch = r.ReadInt64(), Text = Text(ref r), Key = Key(ref r, payload), Value = Value(ref r, payload), ExpiresAt = count == 7 ? ExpiresAt(ref r) : 0 },
                MessageType.ReplicaDelete or MessageType.AddBackup => Expect(count, 5) with { Epoch = r.ReadInt64(), Text = Text(ref r), Key = Key(ref r, payload) },
                MessageType.Grant or MessageType.Fence => Expect(count, 4) with { Epoch = r.ReadInt64(), Text = Text(ref r) },
                MessageType.Reply => Expect(count, 4) with { Status = (StoreStatus)r.ReadByte(), Text = Text(ref r) },
                MessageType.ValueReply => ReadValueReply(ref r, payload, count),
                MessageType.StatsReply or MessageType.ClientReport => Expect(count, 3) with { Stats = ReadStats(ref r) },
                _ => throw new MessagePackSerializationException($"unknown message type {(byte)type}"),
            };
            message = message with { Type = type, Id = id };
            if (!r.End)
            {
                message = default;
                return Fail(out error, "trailing bytes after the message");
            }
            error = "";
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            message = default;
            return Fail(out error, e.Message);
        }
    }

    static bool Fail(out string error, string reason)
    {
        error = "malformed frame: " + reason;
        return false;
    }

    static Message Expect(int count, int expected) =>
        count == expected ? default : throw new MessagePackSerializationException($"expected {expected} elements, got {count}");

    /// <summary>A message whose last field (an expiry) is optional.</summary>
    static Message Expect(int count, int without, int with) =>
        count == without || count == with ? default : throw new MessagePackSerializationException($"expected {without} or {with} elements, got {count}");

    /// <summary>An expiry present on the wire is a time (milliseconds since 1970, UTC), never 0 or negative.</summary>
    static long ExpiresAt(ref MessagePackReader r)
    {
        long at = r.ReadInt64();
        return at > 0 ? at : throw new MessagePackSerializationException($"an expiry must be positive milliseconds since 1970, got {at}");
    }

    static string? Text(ref MessagePackReader r)
    {
        string? s = r.ReadString();
        if (s is { Length: > Wire.MaxTextLength }) throw new MessagePackSerializationException("text field too long");
        return s;
    }

    static ReadOnlyMemory<byte> Bytes(ref MessagePackReader r, ReadOnlyMemory<byte> payload, int max, string what)
    {
        if (r.NextMessagePackType != MessagePackType.Binary) throw new MessagePackSerializationException($"{what} must be binary");
        ReadOnlySequence<byte> bytes = r.ReadBytes() ?? throw new MessagePackSerializationException($"{what} is nil");
        if (bytes.Length > max) throw new MessagePackSerializationException($"{what} of {bytes.Length} bytes exceeds {max}");
        // A single-segment payload: the bytes are the tail of what was consumed.
        long end = r.Consumed;
        return payload.Slice((int)(end - bytes.Length), (int)bytes.Length);
    }

    static ReadOnlyMemory<byte> Key(ref MessagePackReader r, ReadOnlyMemory<byte> payload) =>
        Bytes(ref r, payload, Limits.MaxKeyLength, "key");

    static ReadOnlyMemory<byte> Value(ref MessagePackReader r, ReadOnlyMemory<byte> payload) =>
        Bytes(ref r, payload, Limits.MaxValueLength, "value");

    /// <summary>Pairs [key, value] or [key, value, expiry]; <see cref="Message.PairExpiries"/> is set when any pair has an expiry.</summary>
    static Message ReadPairs(ref MessagePackReader r, ReadOnlyMemory<byte> payload, int count)
    {
        Expect(count, 3);
        int n = r.ReadArrayHeader();
        if (n > Wire.MaxMultiPutPairs) throw new MessagePackSerializationException($"multi-put of {n} pairs exceeds {Wire.MaxMultiPutPairs}");
        var pairs = new (ReadOnlyMemory<byte>, ReadOnlyMemory<byte>)[n];
        long[]? expiries = null;
        for (int i = 0; i < n; i++)
        {
            int fields = r.ReadArrayHeader();
            if (fields is not (2 or 3)) throw new MessagePackSerializationException("a pair is [key, value] or [key, value, expiry]");
            pairs[i] = (Key(ref r, payload), Value(ref r, payload));
            if (fields == 3) (expiries ??= new long[n])[i] = ExpiresAt(ref r);
        }
        return new Message { Pairs = pairs, PairExpiries = expiries };
    }

    static Message ReadValueReply(ref MessagePackReader r, ReadOnlyMemory<byte> payload, int count)
    {
        Expect(count, 4, 5);
        var status = (StoreStatus)r.ReadByte();
        if (r.TryReadNil()) return count == 4 ? new Message { Status = status } : throw new MessagePackSerializationException("an expiry without a value");
        return new Message { Status = status, HasValue = true, Value = Value(ref r, payload), ExpiresAt = count == 5 ? ExpiresAt(ref r) : 0 };
    }

    static Message ReadNodeView(ref MessagePackReader r, int count)
    {
        var status = (StoreStatus)r.ReadByte();
        string? error = Text(ref r);
        if (count == 4) return new Message { Status = status, Text = error };
        Expect(count, 9);
        int version = r.ReadInt32();
        string name = Text(ref r) ?? "";
        int partitions = r.ReadInt32();
        ulong seed = r.ReadUInt64();
        int n = r.ReadArrayHeader();
        if (n > Wire.MaxRegions || partitions < 1 || partitions > Wire.MaxRegions)
            throw new MessagePackSerializationException("too many regions or partitions");
        var regions = new RegionDescriptor[n];
        for (int i = 0; i < n; i++)
        {
            if (r.ReadArrayHeader() != 6) throw new MessagePackSerializationException("a region descriptor has 6 fields");
            int partition = r.ReadInt32();
            ulong generation = r.ReadUInt64();
            long length = r.ReadInt64();
            string? path = Text(ref r);
            ulong address = r.ReadUInt64();
            byte[]? rkey = r.TryReadNil() ? null : r.ReadBytes()?.ToArray();
            if (partition < 0 || partition >= partitions || length < 0 || rkey is { Length: > 4096 })
                throw new MessagePackSerializationException("region descriptor out of range");
            regions[i] = new RegionDescriptor(partition, generation, length, path, address, rkey);
        }
        return new Message { Status = status, Text = error, Node = new NodeView(version, name, partitions, seed, regions) };
    }

    static Dictionary<string, long> ReadStats(ref MessagePackReader r)
    {
        int n = r.ReadMapHeader();
        if (n > Wire.MaxStats) throw new MessagePackSerializationException("too many stats");
        var stats = new Dictionary<string, long>(n);
        for (int i = 0; i < n; i++) stats[Text(ref r) ?? ""] = r.ReadInt64();
        return stats;
    }
}
