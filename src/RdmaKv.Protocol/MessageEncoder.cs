using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MessagePack;
using RdmaKv.Core;

namespace RdmaKv.Protocol;

/// <summary>
/// Writes length-prefixed frames whose payload is a MessagePack array [type, id, fields...].
/// Arrays, not maps, and no reflection: the data path allocates nothing per message.
/// </summary>
public static class MessageEncoder
{
    public static void Hello(ArrayBufferWriter<byte> output, ulong id, string clientName, string? credential, int version = Wire.ProtocolVersion)
    {
        int start = Prefix(output);
        var w = Begin(output, MessageType.Hello, id, 5);
        w.Write(version);
        w.Write(clientName);
        w.Write(credential);
        End(output, ref w, start);
    }

    public static void NodeView(ArrayBufferWriter<byte> output, MessageType type, ulong id, NodeView node)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, 9);
        w.Write((byte)StoreStatus.Ok);
        w.WriteNil();
        w.Write(node.ProtocolVersion);
        w.Write(node.NodeName);
        w.Write(node.PartitionCount);
        w.Write(node.HashSeed);
        w.WriteArrayHeader(node.Regions.Count);
        foreach (var r in node.Regions)
        {
            w.WriteArrayHeader(6);
            w.Write(r.Partition);
            w.Write(r.Generation);
            w.Write(r.Length);
            w.Write(r.Path);
            w.Write(r.RemoteAddress);
            if (r.RemoteKey is null) w.WriteNil(); else w.Write(r.RemoteKey);
        }
        End(output, ref w, start);
    }

    /// <summary>A key and a value: Put, and a slot move's MovePut and AdoptMap.</summary>
    /// <remarks>An expiry (milliseconds since 1970, UTC) travels as a fifth element only when there is one, so a put without one is what it always was.</remarks>
    public static void Put(ArrayBufferWriter<byte> output, ulong id, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MessageType type = MessageType.Put, long expiresAt = 0)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, expiresAt != 0 ? 5 : 4);
        w.Write(key);
        w.Write(value);
        if (expiresAt != 0) w.Write(expiresAt);
        End(output, ref w, start);
    }

    /// <summary>
    /// A replication message: an epoch and a node id, then for ReplicaPut a key and a value, for
    /// ReplicaDelete and AddBackup a key, for Grant and Fence nothing more.
    /// </summary>
    public static void Replica(ArrayBufferWriter<byte> output, MessageType type, ulong id, long epoch, string node, ReadOnlySpan<byte> key = default, ReadOnlySpan<byte> value = default, long expiresAt = 0)
    {
        int count = type switch
        {
            MessageType.ReplicaPut => expiresAt != 0 ? 7 : 6,
            MessageType.ReplicaDelete or MessageType.AddBackup => 5,
            MessageType.Grant or MessageType.Fence => 4,
            _ => throw new ArgumentException($"{type} is not a replication message", nameof(type)),
        };
        int start = Prefix(output);
        var w = Begin(output, type, id, count);
        w.Write(epoch);
        w.Write(node);
        if (count >= 5) w.Write(key);
        if (count >= 6) w.Write(value);
        if (count == 7) w.Write(expiresAt);
        End(output, ref w, start);
    }

    /// <summary>Delete and Get carry only a key.</summary>
    public static void KeyOnly(ArrayBufferWriter<byte> output, MessageType type, ulong id, ReadOnlySpan<byte> key)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, 3);
        w.Write(key);
        End(output, ref w, start);
    }

    /// <summary>Pairs: MultiPut, and a slot move's Import.</summary>
    /// <remarks>A pair with an expiry in <paramref name="expiries"/> (same order, 0 for none) is [key, value, expiry].</remarks>
    public static void MultiPut(ArrayBufferWriter<byte> output, ulong id, IReadOnlyList<(byte[] Key, byte[] Value)> pairs, MessageType type = MessageType.MultiPut, IReadOnlyList<long>? expiries = null)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, 3);
        w.WriteArrayHeader(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            long expiresAt = expiries?[i] ?? 0;
            w.WriteArrayHeader(expiresAt != 0 ? 3 : 2);
            w.Write(pairs[i].Key);
            w.Write(pairs[i].Value);
            if (expiresAt != 0) w.Write(expiresAt);
        }
        End(output, ref w, start);
    }

    /// <summary>Regions and Stats requests carry nothing but their id.</summary>
    public static void Empty(ArrayBufferWriter<byte> output, MessageType type, ulong id)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, 2);
        End(output, ref w, start);
    }

    public static void Reply(ArrayBufferWriter<byte> output, ulong id, StoreStatus status, string? error = null)
    {
        int start = Prefix(output);
        var w = Begin(output, MessageType.Reply, id, 4);
        w.Write((byte)status);
        w.Write(error);
        End(output, ref w, start);
    }

    /// <summary>A failed reply that mirrors Hello's shape so an old or wrong client can read the reason.</summary>
    public static void Refusal(ArrayBufferWriter<byte> output, ulong id, StoreStatus status, string error)
    {
        int start = Prefix(output);
        var w = Begin(output, MessageType.HelloReply, id, 4);
        w.Write((byte)status);
        w.Write(error);
        End(output, ref w, start);
    }

    /// <remarks>A value with an expiry carries it as a fifth element.</remarks>
    public static void ValueReply(ArrayBufferWriter<byte> output, ulong id, StoreStatus status, ReadOnlySpan<byte> value, bool hasValue, long expiresAt = 0)
    {
        bool expires = hasValue && expiresAt != 0;
        int start = Prefix(output);
        var w = Begin(output, MessageType.ValueReply, id, expires ? 5 : 4);
        w.Write((byte)status);
        if (hasValue) w.Write(value); else w.WriteNil();
        if (expires) w.Write(expiresAt);
        End(output, ref w, start);
    }

    public static void StatsReply(ArrayBufferWriter<byte> output, ulong id, IReadOnlyDictionary<string, long> stats) =>
        Counters(output, MessageType.StatsReply, id, stats);

    /// <summary>A client's counters since its last report, by name (see <c>ReaderReport</c>).</summary>
    public static void ClientReport(ArrayBufferWriter<byte> output, ulong id, IReadOnlyDictionary<string, long> counters) =>
        Counters(output, MessageType.ClientReport, id, counters);

    static void Counters(ArrayBufferWriter<byte> output, MessageType type, ulong id, IReadOnlyDictionary<string, long> stats)
    {
        int start = Prefix(output);
        var w = Begin(output, type, id, 3);
        w.WriteMapHeader(stats.Count);
        foreach (var (name, value) in stats)
        {
            w.Write(name);
            w.Write(value);
        }
        End(output, ref w, start);
    }

    static int Prefix(ArrayBufferWriter<byte> output)
    {
        int start = output.WrittenCount;
        output.GetSpan(Wire.LengthPrefix);
        output.Advance(Wire.LengthPrefix);
        return start;
    }

    static MessagePackWriter Begin(ArrayBufferWriter<byte> output, MessageType type, ulong id, int elements)
    {
        var w = new MessagePackWriter(output);
        w.WriteArrayHeader(elements);
        w.Write((byte)type);
        w.Write(id);
        return w;
    }

    static void End(ArrayBufferWriter<byte> output, ref MessagePackWriter w, int start)
    {
        w.Flush();
        ReadOnlySpan<byte> written = output.WrittenSpan;
        var prefix = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(written[start..]), Wire.LengthPrefix);
        BinaryPrimitives.WriteInt32LittleEndian(prefix, written.Length - start - Wire.LengthPrefix);
    }
}
