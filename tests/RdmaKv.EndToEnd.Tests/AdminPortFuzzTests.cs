using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Hostile bytes at a real node's admin port, with no credential: random bytes, cut-off and
/// oversized HTTP, and connections left half-open, all within a fixed time. Afterwards the
/// node process is alive, answers the operator, and returns a key stored before the attack.
/// </summary>
public sealed class AdminPortFuzzTests : IDisposable
{
    static readonly TimeSpan AttackTime = TimeSpan.FromSeconds(90);

    readonly string _dataDirectory = Directory.CreateTempSubdirectory("rdmakv-adminfuzz-").FullName;
    readonly string _name = "adminfuzz-" + Guid.NewGuid().ToString("N")[..12];
    readonly List<Socket> _halfOpen = [];
    ServerProcess? _server;
    int _port;

    /// <summary>Starts the node with its admin plane on a free loopback port (again on another if that one was taken meanwhile).</summary>
    void StartNode()
    {
        for (int attempt = 1; ; attempt++)
        {
            _port = ProcessOutput.FreeLoopbackPort();
            _server = ServerProcess.Start(_name, _dataDirectory, "--listen", "none", "--admin-urls", $"http://127.0.0.1:{_port}", "--checkpoint-interval", "0");
            try
            {
                _server.WaitUntilUp();
                return;
            }
            catch (Xunit.Sdk.XunitException) when (attempt < 3 && _server.Process.WaitForExit(Binaries.Patience) && _server.Errors.Contains("admin plane", StringComparison.Ordinal))
            {
                _server.Dispose();
            }
        }
    }

    /// <summary>Connects, sends <paramref name="bytes"/> (in pieces, to reach the parser in several states), reads until close or timeout.</summary>
    async Task Send(byte[] bytes, CancellationToken cancel, bool halfClose = true)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, _port, timeout.Token);
            for (int at = 0; at < bytes.Length; at += 16 * 1024)
                await socket.SendAsync(bytes.AsMemory(at, Math.Min(16 * 1024, bytes.Length - at)), timeout.Token);
            if (halfClose) socket.Shutdown(SocketShutdown.Send);
            var sink = new byte[16 * 1024];
            while (await socket.ReceiveAsync(sink, timeout.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The node may refuse, reset or ignore any of this; what matters is that it lives.
        }
    }

    /// <summary>Opens a connection, sends the start of a request and leaves it open (closed in Dispose).</summary>
    async Task LeaveHalfOpen(byte[] start, CancellationToken cancel)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_halfOpen) _halfOpen.Add(socket);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, _port, cancel);
            await socket.SendAsync(start, cancel);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
        }
    }

    static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text.Replace("\n", "\r\n", StringComparison.Ordinal));

    /// <summary>Requests that are cut off, oversized or malformed on purpose.</summary>
    static IEnumerable<byte[]> MalformedHttp()
    {
        yield return Ascii("GET");
        yield return Ascii("GET / HTTP/1.1\n");
        yield return Ascii("GET / HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 10\n\nabc");
        yield return Ascii("GET /" + new string('a', 200_000) + " HTTP/1.1\nHost: 127.0.0.1\n\n");
        yield return Ascii("GET / HTTP/1.1\nHost: 127.0.0.1\nX-Big: " + new string('b', 1 << 20) + "\n\n");
        yield return Ascii("GET / HTTP/1.1\nHost: 127.0.0.1\n" + string.Concat(Enumerable.Range(0, 5000).Select(i => $"X-{i}: {i}\n")) + "\n");
        yield return Ascii("PUT /api/keys/x HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\n\nffffffffffffffff\nabc\n");
        yield return Ascii("PUT /api/keys/x HTTP/1.1\nHost: 127.0.0.1\nContent-Length: -1\n\n");
        yield return Ascii("PUT /api/keys/x HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 5\nContent-Length: 7\n\nhello");
        yield return Ascii("PUT /api/keys/x HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 99999999999999999999999\n\n");
        yield return Ascii("POST /api/cluster/move HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer \0\0\0\nContent-Length: 4\n\n{{{{");
        yield return Ascii("GET /metrics HTTP/1.1\nHost: \u0001\u00ff\n\n");
        yield return Ascii("GET /api/node HTTP/1.1\nHost: evil.example\n\n");
        yield return Ascii("GET /../../../etc/passwd HTTP/1.1\nHost: 127.0.0.1\n\n");
        yield return Ascii("GET /api/keys/%zz%00%ff HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer x\n\n");
        yield return Ascii("PRI * HTTP/2.0\n\nSM\n\n");
        yield return Ascii("GET / HTTP/9.9\nHost: 127.0.0.1\n\n");
        yield return Ascii(string.Concat(Enumerable.Repeat("GET /health/live HTTP/1.1\nHost: 127.0.0.1\n\n", 500)));
        yield return [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]; // the start of a TLS ClientHello
        yield return new byte[17];
        yield return [.. Enumerable.Repeat((byte)0xff, 8)];
    }

    [Fact]
    public async Task TheNodeOutlivesHostileBytesAtItsAdminPortAndKeepsItsData()
    {
        StartNode();
        var server = _server!;
        using (var client = Client.KvClient.Connect("local:" + _name)) client.Put("stored-before-the-attack", "still here");

        int seed = Environment.TickCount;
        var random = new Random(seed);
        using var deadline = new CancellationTokenSource(AttackTime);
        var attacks = new List<Func<Task>>();
        foreach (byte[] malformed in MalformedHttp()) attacks.Add(() => Send(malformed, deadline.Token));
        for (int i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 64 * 1024)];
            random.NextBytes(bytes);
            bool halfClose = random.Next(2) == 0;
            attacks.Add(() => Send(bytes, deadline.Token, halfClose));
        }
        for (int i = 0; i < 64; i++)
        {
            byte[] start = Ascii(i % 2 == 0 ? "GET /metrics HTTP/1.1\nHost: 127.0.0.1\n" : "PUT /api/keys/slow HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 1000\n\nab");
            attacks.Add(() => LeaveHalfOpen(start, deadline.Token));
        }
        // Eight at a time, in a shuffled order, until all are done or the time is up.
        var queue = new System.Collections.Concurrent.ConcurrentQueue<Func<Task>>(attacks.OrderBy(_ => random.Next()));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!deadline.IsCancellationRequested && queue.TryDequeue(out var attack)) await attack();
        })));

        Assert.False(server.Process.HasExited, $"the node exited during the attack (seed {seed}):\n{server.Output}\n{server.Errors}");
        string token = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "admin-token"))).Trim();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}/"), Timeout = Binaries.Patience };
        var request = new HttpRequestMessage(HttpMethod.Get, "api/node");
        request.Headers.Authorization = new("Bearer", token);
        var node = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, node.StatusCode);
        Assert.Equal(_name, (await node.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        using (var client = Client.KvClient.Connect("local:" + _name))
        {
            Assert.Equal("still here"u8.ToArray(), client.Get("stored-before-the-attack"));
            client.Put("stored-after-the-attack", "fine");
            Assert.Equal("fine"u8.ToArray(), client.Get("stored-after-the-attack"));
        }
        Assert.False(server.Process.HasExited, $"the node exited after the attack (seed {seed})");
    }

    public void Dispose()
    {
        foreach (var socket in _halfOpen) socket.Dispose();
        _server?.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
