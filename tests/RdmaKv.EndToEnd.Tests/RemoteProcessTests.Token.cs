namespace RdmaKv.EndToEnd.Tests;

/// <summary>The CLI against a remote node without and with its client token.</summary>
public sealed partial class RemoteProcessTests
{
    [Fact]
    public void WithoutATokenTheCliSaysHowToPassOneAndTokenFilePassesIt()
    {
        var refused = Cli.Run(Uri, "put", "k", "v");

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("--token-file", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("RDMAKV_TOKEN_FILE", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("pass --token ", refused.Stderr, StringComparison.Ordinal);

        string tokenFile = Path.Combine(_data, "client-token");
        var put = Cli.Run(Uri, "put", "k", "v", "--token-file", tokenFile);
        Assert.True(put.ExitCode == 0, put.ToString());
        var got = Cli.Run(Uri, "--token-file", tokenFile, "get", "k");
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal("v"u8.ToArray(), got.Stdout);
    }
}
