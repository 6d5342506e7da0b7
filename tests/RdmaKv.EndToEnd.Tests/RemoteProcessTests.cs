using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using RdmaKv.Client;
using RdmaKv.Core;
using RdmaKv.Protocol;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// The server binary in a child process, clients in this one, over UCX (tcp on loopback): the
/// client and CLI round trip, refusals of bad credentials, versions and frames, and a server
/// killed mid-load and restarted.
/// </summary>
public sealed partial class RemoteProcessTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    ServerProcess _server;

    public RemoteProcessTests()
    {
        TestNode.UseLoopbackUcx();
        _server = StartServer(port: 0);
    }

    int Port { get; set; }
    string Uri => $"ucx://127.0.0.1:{Port}";
    string Token => File.ReadAllText(Path.Combine(_data, "client-token")).Trim();

    ServerProcess StartServer(int port)
    {
        var server = ServerProcess.Start(_name, _data, "--listen", $"127.0.0.1:{port}", "--admin-urls", "none");
        try
        {
            server.WaitForOutput("remote clients connect with");
            Port = int.Parse(ListenLine().Match(server.Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    [GeneratedRegex(@"ucx://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListenLine();

    KvClient Connect(TimeSpan? timeout = null) =>
        KvClient.Connect(Uri, new KvClientOptions { Credential = Token, Timeout = timeout ?? TimeSpan.FromSeconds(5) });

    [Fact]
    public void ClientAndCliRoundTripAcrossProcessesWithOneSidedGets()
    {
        using var client = Connect();
        client.Put("alpha", "one");
        Assert.Equal("one"u8.ToArray(), client.Get("alpha"));
        Assert.Null(client.Get("missing"));
        Assert.True(client.Delete("alpha"));
        Assert.Null(client.Get("alpha"));
        client.PutMany([.. Enumerable.Range(0, 50).Select(i => (Encoding.UTF8.GetBytes($"k{i}"), new byte[i * 100]))]);
        for (int i = 0; i < 50; i++) Assert.Equal(i * 100, client.Get($"k{i}")!.Length);
        Assert.Equal(0, client.Stats()["fallback_gets"]); // every GET above was one-sided

        Environment.SetEnvironmentVariable("RDMAKV_TOKEN", Token);
        try
        {
            Assert.Equal(0, Cli.Run(Uri, "put", "cli-key", "cli-value").ExitCode);
            var got = Cli.Run(Uri, "get", "cli-key");
            Assert.Equal(0, got.ExitCode);
            Assert.Equal("cli-value", got.Text.TrimEnd('\n'));
            Assert.Equal(1, Cli.Run(Uri, "get", "no-such-key").ExitCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable("RDMAKV_TOKEN", null);
        }
    }

    [Fact]
    public void AWrongOrMissingCredentialIsRefusedAndTheNodeKeepsServing()
    {
        var wrong = Assert.Throws<KvException>(() => KvClient.Connect(Uri, new KvClientOptions { Credential = "not-the-token" }));
        Assert.Equal(StoreStatus.Unauthorized, wrong.Status);
        Assert.Contains("wrong credential", wrong.Message);
        var missing = Assert.Throws<KvException>(() => KvClient.Connect(Uri, new KvClientOptions()));
        Assert.Contains("RDMAKV_TOKEN", missing.Message);

        using var client = Connect();
        client.Put("still", "serving");
        Assert.Equal("serving"u8.ToArray(), client.Get("still"));
    }

    [Fact]
    public void WrongVersionMalformedAndOversizedMessagesGetClearRepliesAndChangeNothing()
    {
        using (var client = Connect()) client.Put("kept", "value");
        using var raw = UcxClientConnection.Connect("127.0.0.1", Port, new UcxClientOptions { Credential = Token, ProtocolVersion = Wire.ProtocolVersion });

        var hello = new ArrayBufferWriter<byte>();
        MessageEncoder.Hello(hello, 1, "old-client", Token, version: 99);
        var refusal = Decode(raw.Call(hello.WrittenSpan[Wire.LengthPrefix..], 1));
        Assert.Equal(StoreStatus.UnsupportedVersion, refusal.Status);
        Assert.Contains("protocol version", refusal.Text);

        var random = new Random(5);
        for (int i = 0; i < 20; i++)
        {
            var garbage = new byte[random.Next(1, 300)];
            random.NextBytes(garbage);
            var reply = Decode(raw.Call(garbage, (ulong)(100 + i))); // the refusal carries the request's id, though the frame had none
            Assert.Equal(StoreStatus.BadRequest, reply.Status);
        }

        var tooBig = Decode(raw.Call(new byte[Wire.MaxFrameLength + 1], 5000));
        Assert.Equal(StoreStatus.BadRequest, tooBig.Status);
        Assert.Contains("exceeds", tooBig.Text);

        var put = new ArrayBufferWriter<byte>();
        MessageEncoder.Put(put, 7, "sneaky"u8, "value"u8);
        var unGreeted = Decode(raw.Call(put.WrittenSpan[Wire.LengthPrefix..], 7));
        Assert.Equal(StoreStatus.BadRequest, unGreeted.Status); // no Hello, no writes

        using var check = Connect();
        Assert.Equal("value"u8.ToArray(), check.Get("kept"));
        Assert.Null(check.Get("sneaky"));
    }

    static Message Decode(byte[] frame)
    {
        Assert.True(MessageDecoder.TryDecode(frame, out var message, out string error), error);
        return message;
    }

    [Fact]
    public void AKilledServerFailsClientsFastAndTheyReconnectWhenItIsBack()
    {
        using var client = Connect(TimeSpan.FromSeconds(3));
        for (int i = 0; i < 200; i++) client.Put($"key{i}", $"value{i}");

        _server.Signal(Binaries.SigKill);
        _server.WaitForExit();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.ThrowsAny<Exception>(() =>
        {
            for (int i = 0; i < 1000; i++) client.Put($"after{i}", "x");
        });
        Assert.True(e is KvConnectionException, $"expected a connection error, got {e}");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"the client took {started.Elapsed} to notice the node was gone");

        int port = Port;
        _server.Dispose();
        _server = StartServer(port);
        Assert.True(SpinWait.SpinUntil(() =>
        {
            try
            {
                client.Get("key0");
                return true;
            }
            catch (KvConnectionException)
            {
                return false;
            }
        }, Binaries.Patience), "the client did not reconnect to the restarted node");
        client.Put("back", "again");
        Assert.Equal("again"u8.ToArray(), client.Get("back"));
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
