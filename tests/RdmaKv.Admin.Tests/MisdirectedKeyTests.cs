using System.Net;
using System.Text;
using System.Text.Json;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// The key API of a cluster member asked for a key another node owns: 421 Misdirected Request
/// naming the owner, its admin URL and where the key is there, for GET, PUT and DELETE, and
/// nothing stored here.
/// </summary>
public sealed class MisdirectedKeyTests : IAsyncLifetime
{
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-admin-misdirected-").FullName;
    InProcessNode? _member;

    // alpha (this node) owns slots 0 and 1, beta 2 and 3; beta's admin plane need not answer.
    const string Map = """
        { "epoch": 1, "slots": 4, "nodes": [
          { "id": "alpha", "ucx": "127.0.0.1:7", "admin": "http://127.0.0.1:9" },
          { "id": "beta", "ucx": "127.0.0.1:9", "admin": "http://beta.example:7480" } ],
          "owners": ["alpha","alpha","beta","beta"] }
        """;

    InProcessNode Member => _member!;

    public async Task InitializeAsync()
    {
        string file = Path.Combine(_dir, "cluster.json");
        await File.WriteAllTextAsync(file, Map);
        _member = await InProcessNode.StartAsync(o => o with { ClusterFile = file, NodeId = "alpha" });
    }

    static string KeyOwnedBy(ClusterMap map, string owner) =>
        Enumerable.Range(0, 1000).Select(i => $"key-{i}").First(k => map.Owners[map.SlotOf(Encoding.UTF8.GetBytes(k))] == owner);

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task AKeyAnotherNodeOwnsIsMisdirectedToItsOwnersAdminPlane(string method)
    {
        var map = ClusterMap.Parse(Map);
        string key = KeyOwnedBy(map, "beta");
        int slot = map.SlotOf(Encoding.UTF8.GetBytes(key));

        var response = await Member.SendAsync(new HttpMethod(method), $"/api/keys/{key}", Member.Token,
            method == "PUT" ? new StringContent("value") : null);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = problem.RootElement;
        Assert.Equal(421, root.GetProperty("status").GetInt32());
        Assert.Equal("beta", root.GetProperty("owner").GetString());
        Assert.Equal("http://beta.example:7480", root.GetProperty("ownerAdmin").GetString());
        Assert.Equal($"http://beta.example:7480/api/keys/{key}", root.GetProperty("location").GetString());
        Assert.Equal(slot, root.GetProperty("slot").GetInt32());
        Assert.Equal(1, root.GetProperty("epoch").GetInt64());
        Assert.Contains("node beta", root.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(new Uri($"http://beta.example:7480/api/keys/{key}"), response.Headers.Location);
        Assert.Equal(Core.StoreStatus.NotFound, ((IAdminNode)Member.Node).Get(Encoding.UTF8.GetBytes(key), out _));
    }

    [Fact]
    public async Task AKeyThisNodeOwnsIsServedHere()
    {
        string key = KeyOwnedBy(ClusterMap.Parse(Map), "alpha");

        Assert.Equal(HttpStatusCode.NoContent, (await Member.SendAsync(HttpMethod.Put, $"/api/keys/{key}", Member.Token, new StringContent("here"))).StatusCode);
        var get = await Member.SendAsync(HttpMethod.Get, $"/api/keys/{key}", Member.Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("here", await get.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await Member.SendAsync(HttpMethod.Delete, $"/api/keys/{key}", Member.Token)).StatusCode);
    }

    [Fact]
    public async Task AMoveToANodeNotInTheMapIsRefusedWithAMessageWithoutTheParameterName()
    {
        using var body = new StringContent("""{ "slot": 0, "node": "gamma" }""", Encoding.UTF8, "application/json");
        var response = await Member.SendAsync(HttpMethod.Post, "/api/cluster/move", Member.Token, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains("node 'gamma' is not in the cluster map", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", detail, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_member is not null) await _member.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
