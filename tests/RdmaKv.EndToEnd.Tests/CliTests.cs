using System.Text;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>The rdmakv CLI as a separate process against an rdmakv-server process: output bytes and exit codes.</summary>
public sealed class CliTests : IDisposable
{
    readonly string _dataDirectory = TestNode.NewDataDirectory();
    readonly ServerProcess _server;
    readonly string _uri;

    public CliTests()
    {
        _server = ServerProcess.StartOnFreePorts(TestNode.UniqueName(), _dataDirectory);
        _uri = "local:" + _server.Name;
        try
        {
            _server.WaitUntilUp();
        }
        catch
        {
            // xunit does not dispose a test class whose constructor threw.
            _server.Dispose();
            Directory.Delete(_dataDirectory, recursive: true);
            throw;
        }
    }

    static void AssertExit(int expected, CliResult result) => Assert.True(result.ExitCode == expected, $"expected exit {expected}: {result}");

    [Fact]
    public void PutWithATtlExpiresAndTtlSaysHowLongIsLeft()
    {
        AssertExit(0, Cli.Run(_uri, "put", "brief", "v", "--ttl", "1h"));
        var ttl = Cli.Run(_uri, "ttl", "brief");
        AssertExit(0, ttl);
        string[] parts = Encoding.UTF8.GetString(ttl.Stdout).Trim().Split(' ');
        double left = double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(left, 3000, 3600);
        Assert.EndsWith("Z", parts[1]);

        AssertExit(0, Cli.Run(_uri, "put", "plain", "v"));
        Assert.Equal("never", Encoding.UTF8.GetString(Cli.Run(_uri, "ttl", "plain").Stdout).Trim());
        AssertExit(1, Cli.Run(_uri, "ttl", "absent"));

        AssertExit(0, Cli.Run(_uri, "put", "gone", "v", "--ttl", "1ms"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Cli.Run(_uri, "get", "gone").ExitCode == 0) Assert.True(DateTime.UtcNow < deadline, "a key put with --ttl 1ms never expired");

        var bad = Cli.Run(_uri, "put", "k", "v", "--ttl", "soon");
        AssertExit(64, bad);
        Assert.Contains("--ttl", bad.Stderr);
    }

    [Fact]
    public void PutGetAndDelReportWhatHappenedThroughOutputAndExitCode()
    {
        var put = Cli.Run(_uri, "put", "k", "v");
        AssertExit(0, put);
        Assert.Empty(put.Stdout);

        var get = Cli.Run(_uri, "get", "k");
        AssertExit(0, get);
        Assert.Equal("v"u8.ToArray(), get.Stdout); // exactly the value: no newline when redirected

        var missing = Cli.Run(_uri, "get", "missing");
        AssertExit(1, missing);
        Assert.Empty(missing.Stdout);
        Assert.Equal("not found", missing.Stderr.Trim());

        AssertExit(0, Cli.Run(_uri, "del", "k"));
        var again = Cli.Run(_uri, "del", "k");
        AssertExit(1, again);
        Assert.Equal("not found", again.Stderr.Trim());
        AssertExit(1, Cli.Run(_uri, "get", "k"));
    }

    [Fact]
    public void PutTakesTheValueFromAFileOrFromStandardInputByteForByte()
    {
        byte[] binary = [0, 1, 2, (byte)'\n', 0xFF, 0xFE, (byte)'\r', (byte)'\n', 0];
        string file = Path.Combine(_dataDirectory, "value.bin");
        File.WriteAllBytes(file, binary);
        byte[] piped = Encoding.UTF8.GetBytes("from stdin\nwith two lines\n");

        AssertExit(0, Cli.Run(_uri, "put", "from-file", "--file", file));
        AssertExit(0, Cli.Run(_uri, piped, "put", "from-stdin"));
        AssertExit(0, Cli.Run(_uri, [], "put", "empty-stdin"));

        Assert.Equal(binary, Cli.Run(_uri, "get", "from-file").Stdout);
        Assert.Equal(piped, Cli.Run(_uri, "get", "from-stdin").Stdout);
        var empty = Cli.Run(_uri, "get", "empty-stdin");
        AssertExit(0, empty);
        Assert.Empty(empty.Stdout);
    }

    [Fact]
    public void StatsPrintsTheNodesCountersOnePerLine()
    {
        AssertExit(0, Cli.Run(_uri, "put", "a", "1"));
        AssertExit(0, Cli.Run(_uri, "put", "b", "2"));
        AssertExit(0, Cli.Run(_uri, "put", "a", "3"));
        AssertExit(1, Cli.Run(_uri, "del", "zzz"));

        var stats = Cli.Run(_uri, "stats");

        AssertExit(0, stats);
        string[] lines = stats.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("puts 3", lines);
        Assert.Contains("deletes 1", lines);
        Assert.Contains("keys 2", lines);
        Assert.Contains("partitions 2", lines);
        Assert.All(lines, l => Assert.Matches(@"^[a-z_]+ \d+$", l));
    }

    [Fact]
    public void RequestTheNodeRefusesExitsTwoWithItsReason()
    {
        var result = Cli.Run(_uri, "put", new string('k', 1025), "v");

        AssertExit(2, result);
        Assert.Contains("the key is longer than 1024 bytes", result.Stderr);
    }

    [Fact]
    public void CliWithoutARunningNodeExitsThreeAndNamesTheNode()
    {
        string name = TestNode.UniqueName();

        var result = Cli.Run("local:" + name, "get", "x");

        AssertExit(3, result);
        Assert.Empty(result.Stdout);
        Assert.Contains($"no node named '{name}' is running", result.Stderr);
    }

    public void Dispose()
    {
        try
        {
            _server.Signal(Binaries.SigTerm);
            Assert.Equal(0, _server.WaitForExit());
            Assert.False(Directory.Exists(_server.SharedMemoryPath), $"{_server.SharedMemoryPath} outlived the server");
        }
        finally
        {
            _server.Dispose();
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
