using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Protocol;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>A hostile or broken peer on the node's socket: bad frames get BadRequest, and well-behaved clients are unaffected.</summary>
public sealed class RawSocketTests : IDisposable
{
    readonly TestNode _node = new();
    readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public RawSocketTests()
    {
        try
        {
            _socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(_node.SharedMemoryPath, "node.sock")));
        }
        catch
        {
            Dispose(); // xunit does not dispose a test class whose constructor threw
            throw;
        }
        _socket.ReceiveTimeout = (int)Binaries.Patience.TotalMilliseconds;
    }

    void SendFrame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        payload.CopyTo(frame.AsSpan(4));
        _socket.Send(frame);
    }

    void Send(Action<ArrayBufferWriter<byte>> encode)
    {
        var w = new ArrayBufferWriter<byte>();
        encode(w);
        _socket.Send(w.WrittenSpan);
    }

    /// <summary>Reads one reply frame; null when the node hung up.</summary>
    byte[]? ReceiveFrame()
    {
        var prefix = new byte[4];
        if (!ReceiveExactly(prefix)) return null;
        var payload = new byte[BinaryPrimitives.ReadInt32LittleEndian(prefix)];
        Assert.True(ReceiveExactly(payload), "the node hung up in the middle of a reply");
        return payload;
    }

    bool ReceiveExactly(byte[] buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = _socket.Receive(buffer.AsSpan(got));
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    Message ReceiveReply()
    {
        byte[] payload = ReceiveFrame() ?? throw new Xunit.Sdk.XunitException("the node hung up instead of replying");
        Assert.True(MessageDecoder.TryDecode(payload, out var reply, out string error), error);
        return reply;
    }

    void AssertNormalClientWorks()
    {
        using var client = _node.Connect();
        client.Put("after", "fine");
        Assert.Equal("fine"u8.ToArray(), client.Get("after"));
    }

    [Fact]
    public void GarbageFramesAreAnsweredWithBadRequestAndTheConnectionStaysUsable()
    {
        byte[][] garbage = [[0xC1], [0x00, 0x01, 0x02], Encoding.UTF8.GetBytes("GET / HTTP/1.1"), [0x92, 0xFF, 0x01], [0x94, 3, 1, 0xC0, 0xC0]];
        foreach (byte[] payload in garbage)
        {
            SendFrame(payload);
            var reply = ReceiveReply();
            Assert.Equal(MessageType.Reply, reply.Type);
            Assert.Equal(StoreStatus.BadRequest, reply.Status);
            Assert.StartsWith("malformed frame", reply.Text);
        }
        SendFrame([]); // an empty payload is a frame too, and still garbage
        Assert.Equal(StoreStatus.BadRequest, ReceiveReply().Status);

        Send(w => MessageEncoder.Hello(w, 7, "raw-test", credential: null));
        var hello = ReceiveReply();
        Assert.Equal(MessageType.HelloReply, hello.Type);
        Assert.Equal(7ul, hello.Id);
        Assert.Equal(_node.Name, hello.Node!.NodeName);

        Send(w => MessageEncoder.Put(w, 8, "raw"u8, "value"u8));
        Assert.Equal(StoreStatus.Ok, ReceiveReply().Status);
        Send(w => MessageEncoder.Put(w, 9, [], "value"u8)); // the node validates what clients should have
        var refused = ReceiveReply();
        Assert.Equal((9ul, StoreStatus.KeyEmpty), (refused.Id, refused.Status));

        Assert.Equal(6, _node.Stat("bad_frames"));
        using var client = _node.Connect();
        Assert.Equal("value"u8.ToArray(), client.Get("raw"));
    }

    [Fact]
    public void RequestsBeforeHelloAreRefused()
    {
        Send(w => MessageEncoder.Put(w, 1, "k"u8, "v"u8));
        var reply = ReceiveReply();

        Assert.Equal(StoreStatus.BadRequest, reply.Status);
        Assert.Contains("Hello", reply.Text);
        Assert.Equal(0, _node.Stat("keys"));
    }

    [Fact]
    public void WrongProtocolVersionIsRefusedWithTheVersionTheNodeSpeaks()
    {
        Send(w => MessageEncoder.Hello(w, 1, "raw-test", credential: null, version: Wire.ProtocolVersion + 1));
        var reply = ReceiveReply();

        Assert.Equal(StoreStatus.UnsupportedVersion, reply.Status);
        Assert.Contains($"version {Wire.ProtocolVersion}", reply.Text);
    }

    [Theory]
    [InlineData(Wire.MaxFrameLength + 1)]
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    public void OversizedLengthPrefixIsAnsweredWithBadRequestThenTheNodeHangsUp(int length)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, length);
        _socket.Send(prefix);

        var reply = ReceiveReply();
        Assert.Equal(StoreStatus.BadRequest, reply.Status);
        Assert.Contains("exceeds the limit", reply.Text);
        Assert.Null(ReceiveFrame()); // the stream cannot be resynchronized: the node closed it

        Assert.Equal(1, _node.Stat("bad_frames"));
        AssertNormalClientWorks();
    }

    [Fact]
    public void PeerThatHangsUpMidFrameDoesNotDisturbOtherClients()
    {
        using var client = _node.Connect();
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, 1000);
        _socket.Send(prefix);
        _socket.Send(new byte[10]);
        _socket.Shutdown(SocketShutdown.Both);

        // The node notices the half frame's end and closes that connection; the client's stays.
        Assert.True(SpinWait.SpinUntil(() => _node.Stat("connections_open") == 1, Binaries.Patience),
            $"the node still counts {_node.Stat("connections_open")} open connections");
        client.Put("k", "v");
        Assert.Equal("v"u8.ToArray(), client.Get("k"));
        AssertNormalClientWorks();
    }

    public void Dispose()
    {
        _socket.Dispose();
        _node.Dispose();
    }
}
