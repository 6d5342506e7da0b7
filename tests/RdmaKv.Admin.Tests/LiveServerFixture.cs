namespace RdmaKv.Admin.Tests;

/// <summary>The tests that share one live server process (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class LiveServerCollection : ICollectionFixture<LiveServerFixture>
{
    public const string Name = "live server";
}

/// <summary>One rdmakv-server process with its admin plane on a free loopback port, shared by a test collection.</summary>
public sealed class LiveServerFixture : IDisposable
{
    internal ServerProcess Server { get; }
    public Uri AdminUrl { get; }
    public string Token { get; }
    public HttpClient Http { get; }

    public LiveServerFixture()
    {
        // No checkpoint timer: tests count the checkpoints they ask for. No /metrics cache: tests
        // scrape before and after a load.
        Server = new ServerProcess(extra: ["--checkpoint-interval", "0", "--admin-metrics-cache-ms", "0"]);
        try
        {
            AdminUrl = Server.WaitUntilUp();
            Token = File.ReadAllText(Path.Combine(Server.DataDirectory, AdminToken.FileName)).Trim();
            Http = new HttpClient { BaseAddress = AdminUrl, Timeout = TimeSpan.FromSeconds(30) };
        }
        catch
        {
            Server.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts from one client until <paramref name="stop"/> fires or a bounded count is reached; returns
    /// how many. The keys are <paramref name="keyPrefix"/>:0 to :4999, so a test that counts keys
    /// passes a prefix of its own (the tests share the server, in any order).
    /// </summary>
    public Task<long> RunLoadAsync(CancellationToken stop, long maxPuts = 2_000_000, string keyPrefix = "load") => Task.Run(() =>
    {
        using var client = Client.KvClient.Connect(Server.ConnectUri);
        var value = new byte[100];
        long puts = 0;
        while (!stop.IsCancellationRequested && puts < maxPuts)
        {
            client.Put(System.Text.Encoding.UTF8.GetBytes($"{keyPrefix}:{puts % 5000}"), value);
            puts++;
        }
        return puts;
    });

    public void Dispose()
    {
        Http?.Dispose();
        Server.Dispose();
    }
}

/// <summary>Where tests leave artifacts (screenshots): $RDMAKV_TEST_ARTIFACTS, else TestResults/admin at the repository root.</summary>
static class Artifacts
{
    public static string Directory
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable("RDMAKV_TEST_ARTIFACTS");
            string path = configured ?? Path.Combine(RepositoryRoot() ?? AppContext.BaseDirectory, "TestResults", "admin");
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RdmaKv.sln"))) return dir.FullName;
        return null;
    }
}
