using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace RdmaKv.Admin.Tests;

/// <summary>The admin plane of a real rdmakv-server process on a real port: scrape, health and raw HTTP.</summary>
[Collection(LiveServerCollection.Name)]
public sealed class LiveServerTests(LiveServerFixture live)
{
    async Task<IReadOnlyList<PromSample>> Scrape()
    {
        string text = await live.Http.GetStringAsync("metrics");
        return PrometheusText.Parse(text);
    }

    [Fact]
    public async Task AScrapeParsesAsPrometheusTextAndItsCountersMoveWithLoad()
    {
        var before = await Scrape();
        // 5,000 keys of this test's own, whatever the other tests of the shared server wrote before.
        long puts = await live.RunLoadAsync(CancellationToken.None, maxPuts: 20_000, keyPrefix: "scrape-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(20_000, puts);
        var after = await Scrape();

        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        Assert.Equal(20_000, Delta("rdmakv_requests_total", ("operation", "put")));
        Assert.Equal(20_000, Delta("rdmakv_request_duration_seconds_count", ("operation", "put")));
        Assert.True(Delta("rdmakv_request_duration_seconds_sum", ("operation", "put")) > 0);
        Assert.True(Delta("rdmakv_received_bytes_total") >= 20_000 * 100);
        Assert.True(Delta("rdmakv_connections_total") >= 1);
        Assert.Equal(5000, after.Where(s => s.Name == "rdmakv_partition_keys").Sum(s => s.Value) - before.Where(s => s.Name == "rdmakv_partition_keys").Sum(s => s.Value), 0);
        Assert.Equal(1, after.Value("rdmakv_ready"));
        // Most puts take well under a millisecond here, so the 1 ms bucket holds most of them.
        double underOneMs = after.Value("rdmakv_request_duration_seconds_bucket", ("operation", "put"), ("le", "0.001"));
        Assert.True(underOneMs >= 0.5 * after.Value("rdmakv_request_duration_seconds_count", ("operation", "put")));
    }

    [Fact]
    public async Task LiveAndReadyAnswerOnTheRealPort()
    {
        Assert.Equal(HttpStatusCode.OK, (await live.Http.GetAsync("health/live")).StatusCode);
        var ready = await live.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        string body = await ready.Content.ReadAsStringAsync();
        Assert.Contains("recovery: finished", body, StringComparison.Ordinal);
        Assert.Contains("local transport: listening", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTokenWasPrintedOnceAndIsPrivate()
    {
        Assert.Contains($"Admin token (shown only now; kept in ", live.Server.Output, StringComparison.Ordinal);
        Assert.Contains(live.Token, live.Server.Output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(live.Server.DataDirectory, AdminToken.FileName)));
        var put = new HttpRequestMessage(HttpMethod.Put, "api/keys/live") { Content = new StringContent("v") };
        put.Headers.Authorization = new("Bearer", live.Token);
        Assert.Equal(HttpStatusCode.NoContent, (await live.Http.SendAsync(put)).StatusCode);
    }

    /// <summary>Sends raw HTTP/1.1 (no client library to fix up the request) and returns the status and body.</summary>
    async Task<(int Status, string Body)> Raw(string requestHead, byte[]? body = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, live.AdminUrl.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requestHead.Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n"));
        if (body is not null) await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string statusLine = await reader.ReadLineAsync() ?? "";
        string rest = await reader.ReadToEndAsync();
        int status = int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, rest);
    }

    string Head(string method, string target, long contentLength, bool token = true) =>
        $"{method} {target} HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n" +
        (token ? $"Authorization: Bearer {live.Token}\n" : "") +
        $"Content-Length: {contentLength}\n";

    [Theory]
    [InlineData("/api/keys/bad%zzescape")]
    [InlineData("/api/keys/trailing%4")]
    [InlineData("/api/keys/nul%00byte")]
    public async Task ABadlyEncodedKeyGets400AndNothingIsStored(string target)
    {
        async Task<long> Keys() => (await live.Http.GetFromJsonAsync<JsonElement>("api/partitions")).EnumerateArray().Sum(p => p.GetProperty("keys").GetInt64());
        long before = await Keys();
        var (status, _) = await Raw(Head("PUT", target, 1), "v"u8.ToArray());
        Assert.Equal(400, status);
        Assert.Equal(before, await Keys());
    }

    [Fact]
    public async Task AnAnnouncedBodyOverTheLimitGets413BeforeItIsSent()
    {
        var (status, body) = await Raw(Head("PUT", "/api/keys/huge", 64L << 20));
        Assert.Equal(413, status);
        Assert.Contains("application/problem+json", body, StringComparison.Ordinal);
        var get = new HttpRequestMessage(HttpMethod.Get, "api/keys/huge");
        get.Headers.Authorization = new("Bearer", live.Token);
        Assert.Equal(HttpStatusCode.NotFound, (await live.Http.SendAsync(get)).StatusCode);
    }

    [Fact]
    public async Task WithoutTheTokenAHugeBodyIsRefusedWith401Unread()
    {
        var (status, body) = await Raw(Head("PUT", "/api/keys/huge", 64L << 20, token: false));
        Assert.Equal(401, status);
        Assert.Contains("WWW-Authenticate: Bearer", body, StringComparison.Ordinal);
    }
}

/// <summary>Starting and restarting real server processes: the token's life and a taken admin address.</summary>
public sealed class ServerStartTests
{
    [Fact]
    public void TheTokenIsPrintedAtTheFirstStartOnlyAndKeptAcrossRestarts()
    {
        string dataDirectory = Directory.CreateTempSubdirectory("rdmakv-admin-restart-").FullName;
        try
        {
            string token;
            using (var first = new ServerProcess(dataDirectory))
            {
                first.WaitUntilUp();
                token = File.ReadAllText(Path.Combine(dataDirectory, AdminToken.FileName)).Trim();
                Assert.Contains(token, first.Output, StringComparison.Ordinal);
            }
            using var second = new ServerProcess(dataDirectory);
            second.WaitUntilUp();
            Assert.Equal(token, File.ReadAllText(Path.Combine(dataDirectory, AdminToken.FileName)).Trim());
            Assert.DoesNotContain(token, second.Output, StringComparison.Ordinal);
            Assert.Contains("Admin token is in", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public void AnAdminAddressThatIsTakenStopsTheNodeWithAClearError()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var server = new ServerProcess(adminUrls: $"http://127.0.0.1:{port}");
        Assert.Equal(3, server.WaitForExit());
        Assert.Contains("admin plane", server.Errors, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), server.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadAdminUrlIsRefusedAtStart()
    {
        using var server = new ServerProcess(adminUrls: "https://127.0.0.1:7480");
        Assert.Equal(2, server.WaitForExit());
        Assert.Contains("--admin-urls 'https://127.0.0.1:7480' is not an http URL", server.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.0.1:7480")]
    [InlineData("127.0.0.1:7480")]
    [InlineData("http://127.0.0.1:7480/admin")]
    [InlineData(" ")]
    public void AdminOptionsRefuseWhatIsNotAnHttpAddress(string urls)
    {
        var e = Assert.Throws<ArgumentException>(() => new AdminOptions { Urls = urls, DataDirectory = "." }.Validate());
        Assert.Contains("--admin-urls", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7480")]
    [InlineData("http://127.0.0.1:0;http://[::1]:0")]
    [InlineData("http://localhost:9000")]
    public void AdminOptionsTakeHttpAddresses(string urls) => new AdminOptions { Urls = urls, DataDirectory = "." }.Validate();
}
