using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using RdmaKv.Client;
using RdmaKv.Server;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// A real storage node in this process with its admin plane on a TestServer: the HTTP pipeline
/// runs in memory, the node and its shared memory are real. Dispose stops both and removes the
/// data directory.
/// </summary>
sealed class InProcessNode : IAsyncDisposable
{
    readonly NodeHost _host;

    InProcessNode(NodeHost host, AdminPlane admin, string dataDirectory)
    {
        _host = host;
        Admin = admin;
        DataDirectory = dataDirectory;
        var server = (TestServer)admin.Services.GetService(typeof(IServer))!;
        Http = server.CreateClient();
    }

    public StorageNode Node => _host.Node;
    public AdminPlane Admin { get; }
    public string DataDirectory { get; }
    public HttpClient Http { get; }
    public string Token => Admin.Token.Value;

    public static async Task<InProcessNode> StartAsync(Func<StorageNodeOptions, StorageNodeOptions>? configure = null)
    {
        string dataDirectory = Directory.CreateTempSubdirectory("rdmakv-admin-").FullName;
        // No checkpoint timer: tests count the checkpoints they ask for.
        var options = new StorageNodeOptions
        {
            Name = "admin-" + Guid.NewGuid().ToString("N"),
            DataDirectory = dataDirectory,
            Partitions = 2,
            MemoryBytes = 64L << 20,
            CheckpointInterval = Timeout.InfiniteTimeSpan,
        };
        if (configure is not null) options = configure(options);
        AdminPlane? admin = null;
        NodeHost? node = null;
        try
        {
            // Samples only when a test takes one, so rates are what the test did; every scrape renders.
            admin = AdminPlane.Create(new AdminOptions { DataDirectory = dataDirectory, SampleInterval = TimeSpan.FromMinutes(1), MetricsCacheDuration = TimeSpan.Zero }, configure: b => b.WebHost.UseTestServer());
            await admin.StartAsync();
            // The host serves local clients; this admin plane, on a test server, replaces the host's own.
            node = NodeHost.Start(options with { AdminUrls = "none" });
            admin.Attach(node.Node);
            return new InProcessNode(node, admin, dataDirectory);
        }
        catch
        {
            if (admin is not null) await admin.DisposeAsync();
            node?.Dispose();
            Directory.Delete(dataDirectory, recursive: true);
            throw;
        }
    }

    public KvClient Connect() => KvClient.Connect("local:" + Node.Options.Name);

    public HttpRequestMessage Request(HttpMethod method, string path, string? token = null, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, HttpContent? content = null) =>
        Http.SendAsync(Request(method, path, token, content));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Admin.DisposeAsync();
        _host.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One node shared by the tests of a class (xunit runs them one after another).</summary>
public sealed class NodeFixture : IAsyncLifetime
{
    internal InProcessNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await InProcessNode.StartAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
