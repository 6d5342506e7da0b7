using System.Runtime.InteropServices;
using RdmaKv.Core;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// Message READs (<see cref="RemoteReadPath.Messages"/>): each part must name a region
/// generation this node still serves and lie inside it, or the whole READ is refused with a
/// status; the bytes are copied with the same word order a local reader uses
/// (<see cref="MappedRegionAccess"/>). Only greeted connections are served.
/// </summary>
public sealed unsafe partial class UcxNodeListener
{
    /// <summary>The checked parts of the READ being served, and their regions (progress thread only).</summary>
    readonly (MessageReadPart Part, RegionRegistration Region)[] _readParts = new (MessageReadPart, RegionRegistration)[MessageReads.MaxParts];

    void ServeRead(nint replyEndpoint, ReadOnlySpan<byte> frame)
    {
        if (!_connections.TryGetValue(replyEndpoint, out var connection)) return;
        if (!MessageReads.TryReadRequest(frame, out ulong id, out int count))
        {
            Interlocked.Increment(ref _node.Counters.BadFrames);
            _node.Counters.CountError("ucx", $"malformed READ of {frame.Length} bytes from {connection.Peer}");
            SendReadReply(connection, id, MessageReadStatus.Malformed);
            return;
        }
        if (!connection.Greeted)
        {
            _node.Counters.CountError("ucx", $"refused a READ from {connection.Peer}: no accepted Hello");
            SendReadReply(connection, id, MessageReadStatus.NotGreeted);
            return;
        }
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            var part = MessageReads.ReadPart(frame, i);
            var registration = Served(part.Partition, part.Generation);
            if (registration is null)
            {
                SendReadReply(connection, id, MessageReadStatus.Stale);
                return;
            }
            total += part.Length;
            if (part.Offset < 0 || part.Length < 0 || part.Offset > registration.Length - part.Length || total > MessageReads.MaxReplyBytes)
            {
                _node.Counters.CountError("ucx", $"refused a READ from {connection.Peer}: {part.Length} bytes at {part.Offset} of partition {part.Partition}, a region of {registration.Length} bytes");
                SendReadReply(connection, id, MessageReadStatus.OutOfBounds);
                return;
            }
            _readParts[i] = (part, registration);
        }
        int length = MessageReads.ReplyHeader + (int)total;
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)length);
        var reply = new Span<byte>(buffer, length);
        MessageReads.WriteReplyHeader(reply, id, MessageReadStatus.Ok, (int)total);
        var at = reply[MessageReads.ReplyHeader..];
        foreach (var (part, registration) in _readParts.AsSpan(0, count))
        {
            new MappedRegionAccess((byte*)registration.Address, registration.Length).Read(part.Offset, at[..part.Length]);
            at = at[part.Length..];
        }
        Array.Clear(_readParts, 0, count); // holds no region past the READ
        connection.Endpoint.SendOwned(MessageReads.ReplyId, buffer, length);
    }

    /// <summary>The registration of a generation this node still serves (current, or retired within its grace), or null.</summary>
    RegionRegistration? Served(int partition, ulong generation)
    {
        if ((uint)partition >= (uint)_registrations.Length) return null;
        foreach (var r in _registrations[partition])
            if (r.Generation == generation) return r;
        return null;
    }

    static void SendReadReply(UcxConnection connection, ulong id, MessageReadStatus status)
    {
        byte* buffer = (byte*)NativeMemory.Alloc(MessageReads.ReplyHeader);
        MessageReads.WriteReplyHeader(new Span<byte>(buffer, MessageReads.ReplyHeader), id, status, 0);
        connection.Endpoint.SendOwned(MessageReads.ReplyId, buffer, MessageReads.ReplyHeader);
    }

    sealed class ReadServer(UcxNodeListener listener) : IFrameReceiver
    {
        public void Receive(UcxWorker worker, nint replyEndpoint, ulong id, ReadOnlySpan<byte> frame) => listener.ServeRead(replyEndpoint, frame);

        public void Oversized(UcxWorker worker, nint replyEndpoint, ulong id, ulong length)
        {
            if (!listener._connections.TryGetValue(replyEndpoint, out var connection)) return;
            listener._node.Counters.CountError("ucx", $"{connection.Peer} sent a {length}-byte READ request");
            SendReadReply(connection, 0, MessageReadStatus.Malformed);
        }
    }
}
