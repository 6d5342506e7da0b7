namespace RdmaKv.Transport.Ucx;

/// <summary>READs the node serves as messages (<see cref="MessageReads"/>), for regions it gave no memory key for.</summary>
public sealed unsafe partial class UcxClientConnection
{
    /// <summary>UCS_ERR_IO_ERROR: the node refused a message READ (a stale generation, out of bounds); the reader refreshes.</summary>
    const int ReadRefused = -3;

    /// <summary>A message READ on its way: where its bytes go in <see cref="Operation"/>'s buffer.</summary>
    readonly record struct PendingRead(UcxOperation Operation, int At, int Length);

    /// <summary>Sends one message READ of <paramref name="parts"/>, whose bytes land back to back at <paramref name="at"/> of the operation's buffer; completes one part of it. While holding the worker.</summary>
    void IssueMessageRead(UcxOperation op, int at, ReadOnlySpan<MessageReadPart> parts)
    {
        int total = 0;
        foreach (var p in parts) total += p.Length;
        ulong id = NextId();
        Span<byte> request = stackalloc byte[MessageReads.RequestLength(parts.Length)];
        MessageReads.WriteRequest(request, id, parts);
        _reads[id] = new PendingRead(op, at, total);
        int status = UcxMessaging.Send(_ep, MessageReads.RequestId, id, request, wantReply: true);
        if (status != 0 && _reads.Remove(id)) op.Complete(status);
    }

    void OnReadReply(ReadOnlySpan<byte> frame)
    {
        if (!MessageReads.TryReadReply(frame, out ulong id, out var status, out var data))
        {
            Fail($"node {_address} sent a malformed READ reply of {frame.Length} bytes");
            return;
        }
        if (!_reads.Remove(id, out var pending)) return; // given up on and forgotten
        if (status != MessageReadStatus.Ok || data.Length != pending.Length)
        {
            pending.Operation.Complete(ReadRefused);
            return;
        }
        data.CopyTo(new Span<byte>(pending.Operation.Buffer + pending.At, pending.Length));
        pending.Operation.Complete(0);
    }

    /// <summary>
    /// Splits READs into messages of at most <see cref="MessageReads.MaxReplyBytes"/> and
    /// <see cref="MessageReads.MaxParts"/> parts, in order, each with where its bytes start.
    /// </summary>
    internal static List<(int At, MessageReadPart[] Parts)> PlanMessages(ReadOnlySpan<ReadPart> parts)
    {
        var messages = new List<(int, MessageReadPart[])>();
        var current = new List<MessageReadPart>();
        int at = 0, bytes = 0;
        foreach (var p in parts)
        {
            for (int done = 0; done < p.Length;)
            {
                if (bytes == MessageReads.MaxReplyBytes || current.Count == MessageReads.MaxParts) Flush();
                int n = Math.Min(p.Length - done, MessageReads.MaxReplyBytes - bytes);
                current.Add(new MessageReadPart(p.Region.Partition, p.Region.Generation, p.Offset + done, n));
                bytes += n;
                done += n;
            }
        }
        Flush();
        return messages;

        void Flush()
        {
            if (current.Count == 0) return;
            messages.Add((at, current.ToArray()));
            at += bytes;
            bytes = 0;
            current.Clear();
        }
    }

    /// <summary>A READ too large for one message: split, then copied to the destinations.</summary>
    bool ReadLarge(RemoteRegion region, long offsetA, Span<byte> destinationA, long offsetB, Span<byte> destinationB)
    {
        ReadPart[] parts = offsetB >= 0
            ? [new(region, offsetA, destinationA.Length), new(region, offsetB, destinationB.Length)]
            : [new(region, offsetA, destinationA.Length)];
        byte[] bytes = new byte[destinationA.Length + (offsetB >= 0 ? destinationB.Length : 0)];
        if (!ReadMany(parts, bytes)) return false;
        bytes.AsSpan(0, destinationA.Length).CopyTo(destinationA);
        if (offsetB >= 0) bytes.AsSpan(destinationA.Length).CopyTo(destinationB);
        return true;
    }

    sealed class MessageReadWork(UcxClientConnection connection, UcxOperation op, List<(int At, MessageReadPart[] Parts)> messages) : IUcxWork
    {
        public void Run(UcxWorker worker)
        {
            foreach (var (at, parts) in messages)
            {
                if (connection._ep == 0) op.Complete(-24); // UCS_ERR_NOT_CONNECTED
                else connection.IssueMessageRead(op, at, parts);
            }
        }
    }

    sealed class ReadReplies(UcxClientConnection connection) : IFrameReceiver
    {
        public void Receive(UcxWorker worker, nint replyEndpoint, ulong id, ReadOnlySpan<byte> frame) => connection.OnReadReply(frame);

        public void Oversized(UcxWorker worker, nint replyEndpoint, ulong id, ulong length) =>
            connection.Fail($"node {connection._address} sent a READ reply of {length} bytes, more than a frame may hold");
    }
}
