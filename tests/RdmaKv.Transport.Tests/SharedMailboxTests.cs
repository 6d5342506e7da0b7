using System.Buffers.Binary;

namespace RdmaKv.Transport.Tests;

public class SharedMailboxTests
{
    const int MaxFrame = 1 << 20;

    static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }

    [Theory]
    [InlineData(50)]   // both sides mostly spin
    [InlineData(0)]    // every wait sleeps on the doorbell
    public void EveryRequestGetsItsOwnReplyInOrder(int spinMicroseconds)
    {
        using var sockets = new SocketPair();
        string path = Path.Combine(sockets.Directory, "m.mailbox");
        var spin = TimeSpan.FromMicroseconds(spinMicroseconds);
        using var node = SharedMailbox.Create(path, MaxFrame, sockets.Node, spin);
        using var client = SharedMailbox.Open(path, MaxFrame, sockets.Client, spin);
        const int count = 20_000;
        int served = 0;
        var server = new Thread(() =>
        {
            while (node.TryReceive(out var payload))
            {
                // Echo the payload with its first byte incremented.
                var reply = payload.ToArray();
                reply[0]++;
                node.Send(Frame(reply));
                served++;
            }
        });
        server.Start();

        var random = new Random(5);
        for (int i = 0; i < count; i++)
        {
            var request = new byte[4 + random.Next(0, i % 100 == 0 ? 200_000 : 300)];
            random.NextBytes(request);
            BinaryPrimitives.WriteInt32LittleEndian(request, i);
            client.Send(Frame(request));
            Assert.True(client.TryReceive(out var reply));
            Assert.Equal(request.Length, reply.Length);
            Assert.Equal((byte)(request[0] + 1), reply.Span[0]);
            Assert.True(reply.Span[1..].SequenceEqual(request.AsSpan(1)));
        }
        sockets.Client.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        Assert.True(server.Join(TimeSpan.FromSeconds(10)), "the node side noticed the client leaving");
        Assert.Equal(count, served);
    }

    [Fact]
    public async Task AsyncReceiveWakesOnTheDoorbell()
    {
        using var sockets = new SocketPair();
        string path = Path.Combine(sockets.Directory, "m.mailbox");
        using var node = SharedMailbox.Create(path, MaxFrame, sockets.Node, TimeSpan.Zero);
        using var client = SharedMailbox.Open(path, MaxFrame, sockets.Client, TimeSpan.Zero);
        var server = Task.Factory.StartNew(() =>
        {
            while (node.TryReceive(out var payload)) node.Send(Frame(payload.Span));
        }, TaskCreationOptions.LongRunning);
        for (int i = 0; i < 500; i++)
        {
            byte[] request = BitConverter.GetBytes(i);
            await client.SendAsync(Frame(request), default);
            var reply = await client.ReceiveAsync(default);
            Assert.NotNull(reply);
            Assert.Equal(i, BitConverter.ToInt32(reply.Value.Span));
        }
        sockets.Client.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        await server.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void ClientLearnsThatTheNodeHasGone()
    {
        using var sockets = new SocketPair();
        string path = Path.Combine(sockets.Directory, "m.mailbox");
        var node = SharedMailbox.Create(path, MaxFrame, sockets.Node, TimeSpan.Zero);
        using var client = SharedMailbox.Open(path, MaxFrame, sockets.Client, TimeSpan.Zero);
        client.Send(Frame([1, 2, 3]));
        node.Dispose(); // closes the node's socket and removes the file
        Assert.False(client.TryReceive(out _));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AFrameLargerThanTheAreaIsRefused()
    {
        using var sockets = new SocketPair();
        string path = Path.Combine(sockets.Directory, "m.mailbox");
        using var node = SharedMailbox.Create(path, 4096, sockets.Node, TimeSpan.Zero);
        using var client = SharedMailbox.Open(path, 4096, sockets.Client, TimeSpan.Zero);
        Assert.Throws<InvalidDataException>(() => client.Send(new byte[3 * 4096]));
    }

    [Fact]
    public void TheMailboxFileIsPrivateToItsUser()
    {
        using var sockets = new SocketPair();
        string path = Path.Combine(sockets.Directory, "m.mailbox");
        using var node = SharedMailbox.Create(path, 4096, sockets.Node, TimeSpan.Zero);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
