using System.Buffers.Binary;

namespace RdmaKv.Transport.Tests;

public class FrameConnectionTests
{
    [Fact]
    public async Task FramesSplitAcrossWritesAndJoinedInOneWriteAllArriveWhole()
    {
        using var sockets = new SocketPair();
        using var reader = new FrameConnection(sockets.Node, 1 << 20, TimeSpan.Zero);
        var payloads = Enumerable.Range(0, 50).Select(i => Enumerable.Repeat((byte)i, i * 997).ToArray()).ToArray();
        var stream = new MemoryStream();
        foreach (var p in payloads)
        {
            stream.Write(BitConverter.GetBytes(p.Length));
            stream.Write(p);
        }
        byte[] all = stream.ToArray();
        var writer = Task.Run(() =>
        {
            // Dribble the bytes out in odd-sized pieces.
            for (int at = 0; at < all.Length;)
            {
                int n = Math.Min(all.Length - at, 1 + at % 7919);
                sockets.Client.Send(all.AsSpan(at, n));
                at += n;
            }
            sockets.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });
        foreach (var expected in payloads)
        {
            Assert.True(reader.TryReceive(out var payload));
            Assert.True(payload.Span.SequenceEqual(expected));
        }
        Assert.False(reader.TryReceive(out _)); // the peer closed
        await writer;
    }

    [Fact]
    public void AnOversizedLengthPrefixIsRefusedBeforeAnythingIsRead()
    {
        using var sockets = new SocketPair();
        using var reader = new FrameConnection(sockets.Node, 1024, TimeSpan.Zero);
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, 1025);
        sockets.Client.Send(prefix);
        var e = Assert.Throws<InvalidDataException>(() => reader.TryReceive(out _));
        Assert.Contains("1025", e.Message);
    }

    [Fact]
    public void ANegativeLengthPrefixIsRefused()
    {
        using var sockets = new SocketPair();
        using var reader = new FrameConnection(sockets.Node, 1024, TimeSpan.Zero);
        sockets.Client.Send([0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Throws<InvalidDataException>(() => reader.TryReceive(out _));
    }

    [Fact]
    public async Task AsyncReceiveReadsWhatSyncSendWrote()
    {
        using var sockets = new SocketPair();
        using var reader = new FrameConnection(sockets.Node, 1 << 20, TimeSpan.Zero);
        using var writer = new FrameConnection(sockets.Client, 1 << 20, TimeSpan.Zero);
        byte[] frame = [3, 0, 0, 0, 7, 8, 9];
        writer.Send(frame);
        var payload = await reader.ReceiveAsync(default);
        Assert.Equal(new byte[] { 7, 8, 9 }, payload!.Value.ToArray());
    }
}
