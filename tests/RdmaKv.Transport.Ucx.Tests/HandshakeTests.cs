using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// The out-of-band handshake against a real UCX worker over tcp on loopback: a refused peer
/// gets its reason and UCX makes nothing for it, an accepted one gets connected endpoints, and
/// oversized or silent peers are dropped within bounds.
/// </summary>
public sealed class HandshakeTests : IDisposable
{
    const int Version = 7;
    readonly UcxWorker _worker;
    readonly Host _host = new();
    readonly UcxHandshakeListener _listener;

    public HandshakeTests()
    {
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        _worker = UcxWorker.Start("handshake test");
        // Endpoints are closed on the progress thread before the worker goes.
        _worker.Stopping += _ =>
        {
            while (_host.Endpoints.TryDequeue(out var endpoint)) endpoint.Dispose();
        };
        try
        {
            _listener = UcxHandshakeListener.Start(_worker, new IPEndPoint(IPAddress.Loopback, 0), _host,
                new UcxHandshakeOptions { Deadline = TimeSpan.FromSeconds(2), MaxPending = 4 });
        }
        catch
        {
            _worker.Dispose(); // xUnit disposes only what it constructed
            throw;
        }
    }

    sealed class Host : IUcxHandshakeHost
    {
        public readonly ConcurrentQueue<string> Refusals = new();
        public readonly ConcurrentQueue<UcxEndpoint> Endpoints = new();

        public UcxRefusal? Check(in UcxHandshakeRequest request) =>
            request.ProtocolVersion != Version ? new UcxRefusal(UcxVerdict.WrongVersion, $"version {request.ProtocolVersion} is not {Version}")
            : request.Credential.Span.SequenceEqual("secret"u8) ? null
            : new UcxRefusal(UcxVerdict.Unauthorized, "wrong credential");

        public void Connected(UcxEndpoint endpoint, string peer) => Endpoints.Enqueue(endpoint);

        public void EndpointFailed(nint endpoint, int status)
        {
        }

        public void Refused(string peer, string reason) => Refusals.Enqueue(reason);
    }

    UcxClientConnection Connect(string credential, int version = Version) =>
        UcxClientConnection.Connect("127.0.0.1", _listener.EndPoint.Port,
            new UcxClientOptions { Credential = credential, ProtocolVersion = version, Timeout = TimeSpan.FromSeconds(10) });

    [Fact]
    public void ARefusedPeerGetsTheReasonAndUcxMakesNoEndpointForIt()
    {
        var wrong = Assert.Throws<UcxRefusedException>(() => Connect("guess"));
        Assert.Equal(UcxVerdict.Unauthorized, wrong.Verdict);
        Assert.Contains("wrong credential", wrong.Message);
        var old = Assert.Throws<UcxRefusedException>(() => Connect("secret", version: 6));
        Assert.Equal(UcxVerdict.WrongVersion, old.Verdict);
        Assert.Contains("version 6 is not 7", old.Message);
        Assert.Empty(_host.Endpoints);

        using var right = Connect("secret");
        Assert.Null(right.Failure);
        Assert.Single(_host.Endpoints);
    }

    [Fact]
    public void AnOversizedCredentialOrAddressIsRefusedUnread()
    {
        using (var socket = Open())
        {
            var hello = Hello(Version, "secret"u8);
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(6), UcxHandshake.MaxCredential + 1);
            socket.Send(hello.AsSpan(0, UcxHandshake.HelloHeader));
            var (verdict, reason) = ReadAnswer(socket);
            Assert.Equal(UcxVerdict.Malformed, verdict);
            Assert.Contains("exceeds", reason);
        }
        using (var socket = Open())
        {
            socket.Send(Hello(Version, "secret"u8));
            Assert.Equal(UcxVerdict.Accepted, ReadAnswer(socket).Verdict);
            var huge = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(huge, 1 << 30);
            socket.Send(huge);
            Assert.Equal(0, socket.Receive(new byte[1])); // the node hangs up without reading a gigabyte
        }
        Assert.True(SpinWait.SpinUntil(() => _host.Refusals.Any(r => r.Contains("exceeds", StringComparison.Ordinal) && r.Contains("body", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
        Assert.Empty(_host.Endpoints);
    }

    [Fact]
    public void SilentPeersAreDroppedAtTheDeadlineAndThoseOverTheLimitAtOnce()
    {
        var silent = Enumerable.Range(0, 6).Select(_ => Open()).ToList();
        try
        {
            foreach (var socket in silent) Assert.Equal(0, DrainUntilClosed(socket)); // busy refusals or the deadline; nothing hangs on
        }
        finally
        {
            foreach (var socket in silent) socket.Dispose();
        }
        Assert.True(SpinWait.SpinUntil(() => _host.Refusals.Count(r => r.Contains("no handshake within", StringComparison.Ordinal)) == 4, TimeSpan.FromSeconds(10)),
            string.Join("; ", _host.Refusals));
        Assert.Equal(2, _host.Refusals.Count(r => r.Contains("handshakes are in progress", StringComparison.Ordinal)));
        using var right = Connect("secret"); // and the slots are free again
        Assert.Single(_host.Endpoints);
    }

    Socket Open()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(_listener.EndPoint);
        return socket;
    }

    static byte[] Hello(int version, ReadOnlySpan<byte> credential)
    {
        var hello = new byte[UcxHandshake.HelloHeader + credential.Length];
        "RKVH"u8.CopyTo(hello);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(4), UcxHandshake.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(6), (ushort)credential.Length);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(8), version);
        credential.CopyTo(hello.AsSpan(UcxHandshake.HelloHeader));
        return hello;
    }

    static (UcxVerdict Verdict, string Reason) ReadAnswer(Socket socket)
    {
        var header = new byte[UcxHandshake.AnswerHeader];
        ReceiveExactly(socket, header);
        var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1))];
        ReceiveExactly(socket, body);
        return ((UcxVerdict)header[0], Encoding.UTF8.GetString(body));
    }

    static void ReceiveExactly(Socket socket, byte[] buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = socket.Receive(buffer.AsSpan(got));
            Assert.True(n > 0, "the node hung up mid-answer");
            got += n;
        }
    }

    /// <summary>Reads whatever the node sends until it hangs up; 0 then (a timeout throws).</summary>
    static int DrainUntilClosed(Socket socket)
    {
        var sink = new byte[256];
        while (socket.Receive(sink) > 0)
        {
        }
        return 0;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _worker.Dispose();
    }
}
