namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>The message-READ wire format (what the node parses from any peer) and how a client splits READs into messages.</summary>
public sealed class MessageReadsTests
{
    [Fact]
    public void ARequestRoundTripsAndEveryPrefixOrExtensionOfItIsRefused()
    {
        MessageReadPart[] parts = [new(0, 7, 64, 4096), new(3, ulong.MaxValue, long.MaxValue, int.MaxValue), new(-1, 0, -5, -9)];
        var frame = new byte[MessageReads.RequestLength(parts.Length)];
        MessageReads.WriteRequest(frame, 42, parts);

        Assert.True(MessageReads.TryReadRequest(frame, out ulong id, out int count));
        Assert.Equal(42UL, id);
        Assert.Equal(parts.Length, count);
        for (int i = 0; i < count; i++) Assert.Equal(parts[i], MessageReads.ReadPart(frame, i));
        for (int cut = 0; cut < frame.Length; cut++) Assert.False(MessageReads.TryReadRequest(frame.AsSpan(0, cut), out _, out _), $"a request cut to {cut} bytes parsed");
        Assert.False(MessageReads.TryReadRequest([.. frame, 0], out _, out _), "a request with a trailing byte parsed");
    }

    [Fact]
    public void RandomBytesNeverParseIntoARequestTheirLengthCannotHold()
    {
        var random = new Random(11);
        for (int i = 0; i < 100_000; i++)
        {
            var frame = new byte[random.Next(0, 200)];
            random.NextBytes(frame);
            if (random.Next(4) == 0 && frame.Length >= MessageReads.RequestHeader) // a plausible count now and then
                BitConverter.TryWriteBytes(frame.AsSpan(8), (frame.Length - MessageReads.RequestHeader) / MessageReads.PartSize);
            if (!MessageReads.TryReadRequest(frame, out _, out int count)) continue;
            Assert.InRange(count, 1, MessageReads.MaxParts);
            Assert.Equal(MessageReads.RequestLength(count), frame.Length);
            for (int p = 0; p < count; p++) MessageReads.ReadPart(frame, p); // never reads past the frame
        }
        Assert.False(MessageReads.TryReadRequest(new byte[MessageReads.RequestLength(MessageReads.MaxParts + 1)], out _, out _));
    }

    [Fact]
    public void AReplyWhoseLengthDisagreesWithItsBytesIsRefused()
    {
        var reply = new byte[MessageReads.ReplyHeader + 5];
        MessageReads.WriteReplyHeader(reply, 9, MessageReadStatus.Ok, 5);
        Assert.True(MessageReads.TryReadReply(reply, out ulong id, out var status, out var data));
        Assert.Equal((9UL, MessageReadStatus.Ok, 5), (id, status, data.Length));
        MessageReads.WriteReplyHeader(reply, 9, MessageReadStatus.Ok, 6);
        Assert.False(MessageReads.TryReadReply(reply, out _, out _, out _));
        MessageReads.WriteReplyHeader(reply, 9, MessageReadStatus.Ok, -1);
        Assert.False(MessageReads.TryReadReply(reply, out _, out _, out _));
        Assert.False(MessageReads.TryReadReply(reply.AsSpan(0, MessageReads.ReplyHeader - 1), out _, out _, out _));
    }

    [Theory]
    [InlineData(new[] { 64 }, 1)]
    [InlineData(new[] { 1 << 20 }, 1)]
    [InlineData(new[] { (1 << 20) + 1 }, 2)]
    [InlineData(new[] { 3 << 20, 5 }, 4)]
    [InlineData(new[] { 0, 0, 64 }, 1)]
    public void PlansCoverEveryByteInOrderWithinTheLimits(int[] lengths, int expectedMessages)
    {
        var region = new RemoteRegion(partition: 1, generation: 2, length: 1L << 40);
        long offset = 1000;
        var parts = lengths.Select(l => { var p = new ReadPart(region, offset, l); offset += l + 17; return p; }).ToArray();

        var plan = UcxClientConnection.PlanMessages(parts);

        Assert.Equal(expectedMessages, plan.Count);
        int at = 0;
        var covered = new List<(long Offset, int Length)>();
        foreach (var (start, pieces) in plan)
        {
            Assert.Equal(at, start);
            Assert.InRange(pieces.Length, 1, MessageReads.MaxParts);
            int bytes = pieces.Sum(p => p.Length);
            Assert.InRange(bytes, 1, MessageReads.MaxReplyBytes);
            Assert.All(pieces, p => Assert.Equal((1, 2UL), (p.Partition, p.Generation)));
            covered.AddRange(pieces.Select(p => (p.Offset, p.Length)));
            at += bytes;
        }
        Assert.Equal(lengths.Sum(), at);
        // Pieces of one part are contiguous and in order; parts follow in their order.
        var expected = parts.Where(p => p.Length > 0).Select(p => (p.Offset, p.Length)).ToList();
        var merged = new List<(long Offset, int Length)>();
        foreach (var c in covered)
        {
            if (merged.Count > 0 && merged[^1].Offset + merged[^1].Length == c.Offset && expected.All(e => e.Offset != c.Offset)) merged[^1] = (merged[^1].Offset, merged[^1].Length + c.Length);
            else merged.Add(c);
        }
        Assert.Equal(expected, merged);
    }

    [Fact]
    public void ManySmallPartsAreSplitAtThePartLimit()
    {
        var region = new RemoteRegion(partition: 0, generation: 1, length: 1L << 30);
        var parts = Enumerable.Range(0, 600).Select(i => new ReadPart(region, i * 64L, 64)).ToArray();
        var plan = UcxClientConnection.PlanMessages(parts);
        Assert.Equal([256, 256, 88], plan.Select(m => m.Parts.Length));
        Assert.Equal([0, 256 * 64, 512 * 64], plan.Select(m => m.At));
    }
}
