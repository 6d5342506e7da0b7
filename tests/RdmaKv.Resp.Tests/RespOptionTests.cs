using System.Globalization;
using RdmaKv.EndToEnd.Tests;
using RdmaKv.Tests;

namespace RdmaKv.Resp.Tests;

/// <summary>rdmakv-server's --resp option, in the server binary.</summary>
public sealed class RespOptionTests : IDisposable
{
    readonly string _data = TestNode.NewDataDirectory();

    ChildProcess Server(params string[] arguments) => new("rdmakv-server.dll",
        ["--name", TestNode.UniqueName(), "--data-dir", _data, "--listen", "none", "--admin-urls", "none", .. arguments]);

    [Fact]
    public void APortAloneServesRespOnLoopbackToRedisCli()
    {
        int port = ProcessOutput.FreeLoopbackPort();
        using var server = Server("--resp", port.ToString(CultureInfo.InvariantCulture));
        server.WaitForOutput($"connect to 127.0.0.1:{port}");
        string token = File.ReadAllText(Path.Combine(_data, "client-token")).Trim();
        var (exit, output, errors) = RedisToolsTests.Run("redis-cli", token, "-p", port.ToString(CultureInfo.InvariantCulture), "SET", "from-cli", "yes");
        Assert.True(exit == 0 && output.Trim() == "OK", $"redis-cli exited {exit}: {output}{errors}");
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void AnAddressThatIsNotHostAndPortIsAUsageError()
    {
        using var server = Server("--resp", "somewhere:port");
        Assert.Equal(2, server.WaitForExit());
        Assert.Contains("--resp 'somewhere:port' is not an IPv4 HOST:PORT or a PORT", server.Errors);
    }

    [Fact]
    public void HelpDescribesTheOption()
    {
        using var help = new ChildProcess("rdmakv-server.dll", ["--help"]);
        Assert.Equal(0, help.WaitForExit());
        Assert.Contains("--resp", help.Output);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
