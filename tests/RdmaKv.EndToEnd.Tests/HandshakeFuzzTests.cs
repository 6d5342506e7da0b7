using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A real node process under hostile traffic with no credential (issue 15, item 1): bytes that
/// aborted nodes through UCX's connection manager, random chunks and half-open connections on
/// the node's port and on every TCP port UCX opened, and handshakes with a wrong token or
/// version. Afterwards the node is alive and returns a key stored before the attack. Bounded:
/// every read has a deadline.
/// </summary>
public sealed class HandshakeFuzzTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    readonly ServerProcess _server;

    public HandshakeFuzzTests()
    {
        TestNode.UseLoopbackUcx();
        _server = ServerProcess.StartOnFreePorts(_name, _data);
        try
        {
            Assert.False(_server.Process.HasExited, $"the node did not start:\n{_server.Errors}");
            _server.WaitForOutput("remote clients connect with"); // its token file exists from then on
            using var client = Connect();
            client.Put("stored-before", "the right value");
        }
        catch
        {
            Dispose(); // xunit does not dispose a test class whose constructor threw
            throw;
        }
    }

    string Token => File.ReadAllText(Path.Combine(_data, "client-token")).Trim();
    IPEndPoint Listen => IPEndPoint.Parse(_server.UcxAddress!);

    KvClient Connect(string? credential = null) =>
        KvClient.Connect($"ucx://{_server.UcxAddress}", new KvClientOptions { Credential = credential ?? Token, Timeout = TimeSpan.FromSeconds(10) });

    void AssertAliveWithItsData()
    {
        Assert.False(_server.Process.HasExited, $"the node died (exit {(_server.Process.HasExited ? _server.Process.ExitCode : 0)}):\n{_server.Errors}");
        using var client = Connect();
        Assert.Equal("the right value"u8.ToArray(), client.Get("stored-before"));
    }

    [Fact]
    public void HostileBytesAndHalfOpenConnectionsOnTheListenPortLeaveTheNodeServing()
    {
        foreach (var (_, bytes) in HostilePeer.Payloads(seed: 15)) HostilePeer.SendAndDrain(Listen, bytes, Binaries.Patience);
        AssertAliveWithItsData();

        // More silent or stalled peers than the node handshakes with at once: those over the limit
        // are turned away at once, the rest when their deadline passes; none holds the node.
        var silent = HostilePeer.OpenHalfOpen(Listen, 80, default);
        var stalled = HostilePeer.OpenHalfOpen(Listen, 8, "RKVH\u0001"u8);
        try
        {
            foreach (var socket in silent.Concat(stalled))
                Assert.True(HostilePeer.ClosedByNode(socket, Binaries.Patience), "the node kept a connection that never finished its handshake");
        }
        finally
        {
            foreach (var socket in silent.Concat(stalled)) socket.Dispose();
        }
        AssertAliveWithItsData();
    }

    /// <remarks>
    /// UCX's tcp transport listens on ports of its own, which a peer's endpoint connects to.
    /// They drop what does not start with UCX's magic number, so everything here must leave the
    /// node serving. A packet that does start with it (magic, then a connection-manager header
    /// of length 0) aborts the node in UCX 1.13.1 (tcp_cm.c:680, an assertion, also in UCX's
    /// current sources): that one is left out, see docs/remote-transport.md, Known gaps.
    /// </remarks>
    [Fact]
    public void HostileBytesOnEveryOtherTcpPortOfTheNodeLeaveItServing()
    {
        int admin = new Uri(_server.AdminUrl!).Port;
        var ports = HostilePeer.ListeningSockets(_server.Process.Id).Where(e => e.Port != Listen.Port && e.Port != admin).ToList();
        Assert.NotEmpty(ports); // UCX's tcp transport listens at least on the loopback device
        foreach (var port in ports)
        {
            var target = port.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, port.Port) : port;
            // UCX's tcp transport keeps a connection open after garbage: once it did on this port,
            // the other payloads are sent without waiting the whole patience for each (a node
            // with twenty such ports took over half an hour).
            var patience = TimeSpan.FromSeconds(5);
            foreach (var (_, bytes) in HostilePeer.Payloads(seed: port.Port))
                if (!HostilePeer.SendAndDrain(target, bytes, patience)) patience = TimeSpan.FromMilliseconds(200);
            var silent = HostilePeer.OpenHalfOpen(target, 8, default);
            try
            {
                AssertAliveWithItsData(); // while they hang on
            }
            finally
            {
                foreach (var socket in silent) socket.Dispose();
            }
        }
        AssertAliveWithItsData();
    }

    [Fact]
    public void AWrongTokenOrVersionIsRefusedInTheHandshakeBeforeUcxMakesAnEndpoint()
    {
        var (verdict, reason) = Handshake(version: 1, protocolVersion: 99, Token);
        Assert.Equal(1, verdict); // WrongVersion
        Assert.Contains("protocol version", reason);
        (verdict, reason) = Handshake(version: 7, protocolVersion: Protocol.Wire.ProtocolVersion, Token);
        Assert.Equal(1, verdict);
        Assert.Contains("handshake version", reason);
        (verdict, reason) = Handshake(version: 1, protocolVersion: Protocol.Wire.ProtocolVersion, "not-the-token");
        Assert.Equal(2, verdict); // Unauthorized
        Assert.Equal("wrong credential", reason);

        var wrong = Assert.Throws<KvException>(() => Connect("not-the-token"));
        Assert.Equal(StoreStatus.Unauthorized, wrong.Status);
        Assert.Contains("wrong credential", wrong.Message);

        using var client = Connect();
        // The setup's client and this one are the only endpoints the node ever made.
        Assert.Equal(2, client.Stats()[StatNames.ConnectionsTotal]);
        Assert.Equal("the right value"u8.ToArray(), client.Get("stored-before"));
    }

    /// <summary>A hello written byte by byte (the layout in UcxHandshake); the node's verdict and reason.</summary>
    (int Verdict, string Reason) Handshake(ushort version, int protocolVersion, string credential)
    {
        byte[] secret = Encoding.UTF8.GetBytes(credential);
        var hello = new byte[12 + secret.Length];
        "RKVH"u8.CopyTo(hello);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(4), version);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(6), (ushort)secret.Length);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(8), protocolVersion);
        secret.CopyTo(hello.AsSpan(12));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.ReceiveTimeout = (int)Binaries.Patience.TotalMilliseconds;
        socket.Connect(Listen);
        socket.Send(hello);
        var answer = new byte[5];
        ReceiveExactly(socket, answer);
        var text = new byte[BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(1))];
        ReceiveExactly(socket, text);
        Assert.Equal(0, socket.Receive(new byte[1])); // and the node hangs up
        return (answer[0], Encoding.UTF8.GetString(text));
    }

    static void ReceiveExactly(Socket socket, byte[] buffer)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = socket.Receive(buffer.AsSpan(got));
            Assert.True(n > 0, "the node hung up without an answer");
            got += n;
        }
    }

    public void Dispose()
    {
        _server.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
