using System.Buffers;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// How remote clients READ a node over tcp, where no NIC checks a memory key: the node hands out
/// no rkey, serves each READ as a message it checks, and a forged rkey, a READ out of bounds or
/// of a generation it does not serve, or a READ before Hello gets nothing and leaves it serving.
/// </summary>
public sealed class RemoteReadTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    ServerProcess? _server;
    int _port;

    public RemoteReadTests() => TestNode.UseLoopbackUcx();

    string Token => File.ReadAllText(Path.Combine(_data, "client-token")).Trim();

    void Start(params string[] extra)
    {
        _server = ServerProcess.StartOnFreePorts(_name, _data, extra);
        _server.WaitForOutput("remote clients connect with");
        _port = int.Parse(_server.UcxAddress!.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    KvClient Connect() =>
        KvClient.Connect($"ucx://127.0.0.1:{_port}", new KvClientOptions { Credential = Token, Timeout = TimeSpan.FromSeconds(5) });

    NodeView Hello(UcxClientConnection raw)
    {
        var hello = new ArrayBufferWriter<byte>();
        MessageEncoder.Hello(hello, 1, "reader", Token);
        Assert.True(MessageDecoder.TryDecode(raw.Call(hello.WrittenSpan[Wire.LengthPrefix..], 1), out var reply, out string error), error);
        return reply.Node ?? throw new Xunit.Sdk.XunitException($"no view in the Hello reply: {reply.Status} {reply.Text}");
    }

    /// <summary>A connection through the handshake (with the token), before any Hello.</summary>
    UcxClientConnection Raw(int timeoutSeconds = 5) =>
        UcxClientConnection.Connect("127.0.0.1", _port, new UcxClientOptions { Timeout = TimeSpan.FromSeconds(timeoutSeconds), Credential = Token, ProtocolVersion = Wire.ProtocolVersion });

    static RemoteRegion Attach(UcxClientConnection connection, RegionDescriptor d) =>
        connection.Attach(d.Partition, d.Generation, d.Length, d.RemoteAddress, d.RemoteKey);

    [Fact]
    public void OverTcpTheNodeGivesNoRkeyAndServesReadsAsMessages()
    {
        Start();
        Assert.Contains("remote reads messages", _server!.Output);
        using var raw = Raw();
        var view = Hello(raw);
        Assert.All(view.Regions, r => Assert.True(r.RemoteKey is null && r.RemoteAddress == 0, $"partition {r.Partition} came with an rkey"));

        var region = Attach(raw, view.Regions[0]);
        Assert.False(region.OneSided);
        var page = new byte[4096];
        Assert.True(raw.Read(region, 0, page));
        Assert.True(RegionHeader.TryRead(page, out var header));
        Assert.Equal(view.Regions[0].Generation, header.Generation);

        using var client = Connect();
        client.Put("alpha", "one");
        Assert.Equal("one"u8.ToArray(), client.Get("alpha"));
        Assert.Equal(0, client.Stats()["fallback_gets"]); // served by message READs, not by the request path
    }

    [Fact]
    public void ValuesLargerThanOneReadMessageComeBackWhole()
    {
        Start();
        using var client = Connect();
        var big = new byte[Limits.MaxValueLength]; // its extent is larger than one READ reply
        new Random(3).NextBytes(big);
        client.Put("big"u8, big);
        Assert.Equal(big, client.Get("big"u8));
        var values = Enumerable.Range(0, 8).Select(i => { var v = new byte[300_000 + i]; new Random(i).NextBytes(v); return v; }).ToArray();
        for (int i = 0; i < values.Length; i++) client.Put(Encoding.UTF8.GetBytes($"mid{i}"), values[i]);
        var got = client.MultiGet([.. Enumerable.Range(0, 8).Select(i => Encoding.UTF8.GetBytes($"mid{i}"))]);
        for (int i = 0; i < 8; i++) Assert.Equal(values[i], got[i]);
        Assert.Equal(0, client.Stats()["fallback_gets"]);
    }

    [Fact]
    public void ReadsOutOfBoundsOfAnUnknownGenerationOrBeforeHelloGetNothing()
    {
        Start();
        using (var client = Connect()) client.Put("kept", "value");
        using var raw = Raw(3);
        var real = Hello(raw).Regions[0];
        var page = new byte[64];

        var tooLong = Attach(raw, real with { Length = 1L << 40 });
        Assert.False(raw.Read(tooLong, real.Length, page), "a READ past the region's end was served");
        Assert.False(raw.Read(tooLong, real.Length - 32, page), "a READ across the region's end was served");
        Assert.False(raw.Read(Attach(raw, real with { Generation = real.Generation + 1000 }), 0, page), "a READ of a generation the node never had was served");
        Assert.False(raw.Read(Attach(raw, real with { Partition = 999 }), 0, page), "a READ of a partition the node does not have was served");
        Assert.True(raw.Read(Attach(raw, real), 0, page), "the connection stopped working after refused READs");

        using var stranger = Raw(3);
        Assert.False(stranger.Read(Attach(stranger, real), 0, page), "a connection that never said Hello read a region");

        Assert.False(_server!.Process.HasExited, _server.Output + _server.Errors);
        using var check = Connect();
        Assert.Equal("value"u8.ToArray(), check.Get("kept"));
        Assert.True(check.Stats()["errors"] >= 3, "refused READs were not counted as errors");
    }

    [Fact]
    public void AForgedRkeyReadsNothingAndTheNodeKeepsServing()
    {
        Start();
        using (var client = Connect()) client.Put("kept", "value");
        using var raw = Raw(2);
        var real = Hello(raw).Regions[0];
        // The rkey UCX's tcp transport packs for every region, and an address no region has:
        // UCX's own emulation of READ copied from any such address and crashed the node on this one.
        byte[] tcpKey = [0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var forged = Attach(raw, real with { RemoteKey = tcpKey, RemoteAddress = 0x1000 });
        Assert.True(forged.OneSided);
        Assert.False(raw.Read(forged, 0, new byte[64]), "a READ with a forged rkey was served");

        Assert.False(_server!.Process.HasExited, _server.Output + _server.Errors);
        using var check = Connect();
        Assert.Equal("value"u8.ToArray(), check.Get("kept"));
    }

    [Fact]
    public void OneSidedReadsStillWorkWhenAskedFor()
    {
        Start("--remote-reads", "one-sided");
        Assert.Contains("remote reads one-sided", _server!.Output);
        using var client = Connect();
        client.Put("alpha", "one");
        Assert.Equal("one"u8.ToArray(), client.Get("alpha"));
        var big = new byte[Limits.MaxValueLength];
        new Random(4).NextBytes(big);
        client.Put("big"u8, big);
        Assert.Equal(big, client.Get("big"u8));
        Assert.Equal(0, client.Stats()["fallback_gets"]);
    }

    public void Dispose()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
