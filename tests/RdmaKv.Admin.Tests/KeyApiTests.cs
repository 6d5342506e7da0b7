using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RdmaKv.Core;

namespace RdmaKv.Admin.Tests;

/// <summary>GET, PUT and DELETE /api/keys/{key}: the token, the limits and the key encoding, against a real node.</summary>
public sealed class KeyApiTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    readonly InProcessNode _node = fixture.Node;

    static ByteArrayContent Bytes(byte[] value) => new(value);

    static ByteArrayContent Text(string value) => new(Encoding.UTF8.GetBytes(value));

    byte[]? Stored(string key) => Stored(Encoding.UTF8.GetBytes(key));

    byte[]? Stored(byte[] key)
    {
        var status = ((IAdminNode)_node.Node).Get(key, out byte[]? value);
        Assert.True(status is StoreStatus.Ok or StoreStatus.NotFound, $"node answered {status}");
        return value;
    }

    static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        Assert.True(json.RootElement.TryGetProperty("title", out _), "a problem has a title");
    }

    [Fact]
    public async Task PutGetDeleteRoundTripWithTheToken()
    {
        var put = await _node.SendAsync(HttpMethod.Put, "/api/keys/user:42", _node.Token, Text("{\"name\":\"Ada\"}"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("{\"name\":\"Ada\"}", Encoding.UTF8.GetString(Stored("user:42")!));

        var get = await _node.SendAsync(HttpMethod.Get, "/api/keys/user:42", _node.Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"name\":\"Ada\"}", await get.Content.ReadAsStringAsync());

        var delete = await _node.SendAsync(HttpMethod.Delete, "/api/keys/user:42", _node.Token);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Null(Stored("user:42"));
        await AssertProblem(await _node.SendAsync(HttpMethod.Get, "/api/keys/user:42", _node.Token), HttpStatusCode.NotFound);
        await AssertProblem(await _node.SendAsync(HttpMethod.Delete, "/api/keys/user:42", _node.Token), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task APutWithATtlExpiresAndGetShowsWhen()
    {
        long before = Expiry.Now();
        var put = await _node.SendAsync(HttpMethod.Put, "/api/keys/ttl-key?ttl=1h", _node.Token, Text("v"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        var get = await _node.SendAsync(HttpMethod.Get, "/api/keys/ttl-key", _node.Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        long at = long.Parse(get.Headers.GetValues("X-RdmaKv-Expires-At").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, before + 3_600_000, Expiry.Now() + 3_600_000 + 1);
        Assert.Equal(StoreStatus.Ok, ((IAdminNode)_node.Node).Get("ttl-key"u8, out _, out long stored));
        Assert.Equal(at, stored);

        long past = Expiry.Now() - 1;
        Assert.Equal(HttpStatusCode.NoContent, (await _node.SendAsync(HttpMethod.Put, $"/api/keys/ttl-key?expires-at={past}", _node.Token, Text("v"))).StatusCode);
        await AssertProblem(await _node.SendAsync(HttpMethod.Get, "/api/keys/ttl-key", _node.Token), HttpStatusCode.NotFound);

        var plain = await _node.SendAsync(HttpMethod.Put, "/api/keys/ttl-key", _node.Token, Text("w"));
        Assert.Equal(HttpStatusCode.NoContent, plain.StatusCode);
        Assert.False((await _node.SendAsync(HttpMethod.Get, "/api/keys/ttl-key", _node.Token)).Headers.Contains("X-RdmaKv-Expires-At"));

        foreach (string bad in new[] { "ttl=soon", "ttl=0s", "ttl=-5", "expires-at=0", "expires-at=x", "ttl=1s&expires-at=5" })
            await AssertProblem(await _node.SendAsync(HttpMethod.Put, $"/api/keys/ttl-key?{bad}", _node.Token, Text("x")), HttpStatusCode.BadRequest);
        Assert.Equal("w", Encoding.UTF8.GetString(Stored("ttl-key")!));
    }

    [Fact]
    public async Task AClientSeesWhatTheApiPutAndTheApiSeesWhatAClientPut()
    {
        using var client = _node.Connect();
        client.Put("from-client", "hello");
        var get = await _node.SendAsync(HttpMethod.Get, "/api/keys/from-client", _node.Token);
        Assert.Equal("hello", await get.Content.ReadAsStringAsync());

        await _node.SendAsync(HttpMethod.Put, "/api/keys/from-api", _node.Token, Text("world"));
        Assert.Equal("world", Encoding.UTF8.GetString(client.Get("from-api")!));
    }

    public static TheoryData<string, string?> RefusedRequests() => new()
    {
        { "GET", null },
        { "GET", "Bearer wrong-token-wrong-token-wrong-token-wrong-token" },
        { "PUT", null },
        { "PUT", "Bearer wrong-token-wrong-token-wrong-token-wrong-token" },
        { "PUT", "Basic b3BlcmF0b3I6cGFzc3dvcmQ=" },
        { "PUT", "Bearer" },
        { "DELETE", null },
        { "DELETE", "Bearer x" },
    };

    [Theory]
    [MemberData(nameof(RefusedRequests))]
    public async Task AMissingOrWrongTokenGets401AndChangesNothing(string method, string? authorization)
    {
        ((IAdminNode)_node.Node).Put("guarded"u8, "original"u8);
        var request = _node.Request(new HttpMethod(method), "/api/keys/guarded", content: method == "PUT" ? Text("overwritten") : null);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await _node.Http.SendAsync(request);

        await AssertProblem(response, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("original", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("original", Encoding.UTF8.GetString(Stored("guarded")!));
    }

    [Fact]
    public async Task TheTokenFromAnotherNodeIsRefused()
    {
        await using var other = await InProcessNode.StartAsync();
        Assert.NotEqual(other.Token, _node.Token);
        var response = await _node.SendAsync(HttpMethod.Put, "/api/keys/k", other.Token, Text("v"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(Stored("k"));
    }

    [Fact]
    public async Task AValueOverTheLimitGets413AndIsNotStored()
    {
        var tooLarge = new byte[Limits.MaxValueLength + 1];
        await AssertProblem(await _node.SendAsync(HttpMethod.Put, "/api/keys/big", _node.Token, Bytes(tooLarge)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Null(Stored("big"));

        // Without a Content-Length (chunked), the body is read up to the limit and refused there.
        var chunked = new StreamContent(new MemoryStream(tooLarge));
        var request = _node.Request(HttpMethod.Put, "/api/keys/big", _node.Token, chunked);
        request.Headers.TransferEncodingChunked = true;
        await AssertProblem(await _node.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
        Assert.Null(Stored("big"));

        var largest = new byte[Limits.MaxValueLength];
        largest[^1] = 7;
        Assert.Equal(HttpStatusCode.NoContent, (await _node.SendAsync(HttpMethod.Put, "/api/keys/big", _node.Token, Bytes(largest))).StatusCode);
        Assert.Equal(largest, Stored("big"));
    }

    [Fact]
    public async Task AnEmptyValueIsAValue()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await _node.SendAsync(HttpMethod.Put, "/api/keys/empty", _node.Token, Bytes([]))).StatusCode);
        var get = await _node.SendAsync(HttpMethod.Get, "/api/keys/empty", _node.Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnEmptyKeyGets400()
    {
        await AssertProblem(await _node.SendAsync(HttpMethod.Put, "/api/keys/", _node.Token, Text("v")), HttpStatusCode.BadRequest);
        await AssertProblem(await _node.SendAsync(HttpMethod.Get, "/api/keys/", _node.Token), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AKeyOverTheLimitGets400()
    {
        string longest = new('k', Limits.MaxKeyLength);
        Assert.Equal(HttpStatusCode.NoContent, (await _node.SendAsync(HttpMethod.Put, "/api/keys/" + longest, _node.Token, Text("v"))).StatusCode);
        var response = await _node.SendAsync(HttpMethod.Put, "/api/keys/" + longest + "k", _node.Token, Text("v"));
        await AssertProblem(response, HttpStatusCode.BadRequest);
        Assert.Contains($"longer than {Limits.MaxKeyLength} bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysArePercentDecodedToBytesSoSlashesAndBinaryKeysAreDistinct()
    {
        await _node.SendAsync(HttpMethod.Put, "/api/keys/a/b", _node.Token, Text("path"));
        await _node.SendAsync(HttpMethod.Put, "/api/keys/a%2Fb%2F", _node.Token, Text("escaped"));
        await _node.SendAsync(HttpMethod.Put, "/api/keys/%FF%01%7F", _node.Token, Text("binary"));
        await _node.SendAsync(HttpMethod.Put, "/api/keys/caf%C3%A9", _node.Token, Text("utf8"));

        Assert.Equal("path", Encoding.UTF8.GetString(Stored("a/b")!));
        Assert.Equal("escaped", Encoding.UTF8.GetString(Stored("a/b/")!));
        Assert.Equal("binary", Encoding.UTF8.GetString(Stored([0xFF, 0x01, 0x7F])!));
        Assert.Equal("utf8", Encoding.UTF8.GetString(Stored("café")!));
        using var client = _node.Connect();
        Assert.Equal("binary", Encoding.UTF8.GetString(client.Get([0xFF, 0x01, 0x7F])!));
    }

    [Fact]
    public async Task AFullRegionGets507AndTheErrorIsListed()
    {
        // One partition whose share of memory is about one first region: a 1 MiB value cannot fit.
        await using var small = await InProcessNode.StartAsync(o => o with { Partitions = 1, MemoryBytes = 2L << 20, ColdTier = false });
        var value = new byte[Limits.MaxValueLength];
        HttpResponseMessage? response = null;
        for (int i = 0; i < 4; i++)
        {
            response = await small.SendAsync(HttpMethod.Put, $"/api/keys/fill{i}", small.Token, Bytes(value));
            if (response.StatusCode != HttpStatusCode.NoContent) break;
        }
        await AssertProblem(response!, HttpStatusCode.InsufficientStorage);
        Assert.Contains("--memory", await response!.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var errors = await small.Http.GetFromJsonAsync<JsonElement>("/api/errors");
        Assert.Contains(errors.EnumerateArray(), e => e.GetProperty("source").GetString() == "admin" && e.GetProperty("message").GetString()!.Contains("region", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdminKeyOperationsAreCountedApartFromClientOperations()
    {
        var before = (await _node.Http.GetFromJsonAsync<JsonElement>("/api/stats")).GetProperty("operations");
        await _node.SendAsync(HttpMethod.Put, "/api/keys/counted", _node.Token, Text("v"));
        await _node.SendAsync(HttpMethod.Get, "/api/keys/counted", _node.Token);
        await _node.SendAsync(HttpMethod.Delete, "/api/keys/counted", _node.Token);
        await _node.SendAsync(HttpMethod.Put, "/api/keys/refused", null, Text("v"));
        var stats = await _node.Http.GetFromJsonAsync<JsonElement>("/api/stats");
        var operations = stats.GetProperty("operations");
        long Delta(string name) => operations.GetProperty(name).GetInt64() - before.GetProperty(name).GetInt64();
        Assert.Equal(1, Delta("adminPuts"));
        Assert.Equal(1, Delta("adminGets"));
        Assert.Equal(1, Delta("adminDeletes"));
        Assert.Equal(0, Delta("puts"));
    }

    [Fact]
    public async Task TheTokenIsAcceptedWhateverTheSchemeCase()
    {
        var request = _node.Request(HttpMethod.Put, "/api/keys/case", content: Text("v"));
        request.Headers.Authorization = new AuthenticationHeaderValue("bearer", _node.Token);
        Assert.Equal(HttpStatusCode.NoContent, (await _node.Http.SendAsync(request)).StatusCode);
    }
}
