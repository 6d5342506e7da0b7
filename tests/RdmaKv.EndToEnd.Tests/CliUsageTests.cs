namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// The rdmakv CLI's answers that need no node: usage errors, an address that names no host, its
/// help. Each is one line on standard error and an exit code of its own (README, Quick start).
/// </summary>
public sealed class CliUsageTests
{
    const int Usage = 64;

    public static TheoryData<string[]> UsageErrors() => new(
        ["frob"],
        [],
        ["get"],
        ["get", "k", "--bogus"],
        ["put"],
        ["del"],
        ["stats", "extra"],
        ["checkpoint", "--bogus"],
        ["cluster"],
        ["cluster", "frob"],
        ["cluster", "move", "1"],
        ["cluster", "move", "one", "node2"],
        ["cluster", "rebalance", "--bogus"]);

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void AUsageErrorExitsWithTheUsageCodeAndPointsAtHelp(string[] args)
    {
        var result = Cli.Run("local:" + TestNode.UniqueName(), args);

        Assert.True(result.ExitCode == Usage, $"rdmakv {string.Join(' ', args)}: {result}");
        Assert.Empty(result.Stdout);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddressNoClientKnowsIsAUsageErrorWithoutTheParameterName()
    {
        var result = Cli.Run("bogus:x", "get", "k");

        Assert.True(result.ExitCode == Usage, result.ToString());
        Assert.Contains("'bogus:x' is not a node address", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostThatDoesNotResolveExitsThreeWithOneLineNamingTheAddress()
    {
        // .invalid never resolves (RFC 6761).
        var result = Cli.Run("ucx://nohost.invalid:7400", "get", "k");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Empty(result.Stdout);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.Stderr);
        Assert.Contains("nohost.invalid:7400", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("rdmakv: ", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void HelpNamesTheTokenFileOptionTheExitCodesAndEveryEnvironmentVariableTheCliReads()
    {
        var result = Cli.Run("local:x", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string name in (string[])["RDMAKV_CONNECT", "RDMAKV_TOKEN ", "RDMAKV_TOKEN_FILE", "RDMAKV_ADMIN ", "RDMAKV_ADMIN_TOKEN", "RDMAKV_BENCH", "--token-file", "64 usage"])
            Assert.Contains(name, result.Text, StringComparison.Ordinal);
    }
}
