namespace RdmaKv.Admin.Tests;

/// <summary>The admin token file: created once with mode 0600, kept, and refused when unsafe or damaged.</summary>
public sealed class AdminTokenTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("rdmakv-token-").FullName;

    string TokenPath => Path.Combine(_directory, AdminToken.FileName);

    [Fact]
    public void TheFirstStartCreatesAPrivateTokenAndLaterStartsKeepIt()
    {
        var first = AdminToken.LoadOrCreate(_directory);
        Assert.True(first.Created);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(TokenPath));
        Assert.True(first.Value.Length >= 43, "256 random bits in base64url");
        Assert.Equal(first.Value, File.ReadAllText(TokenPath).Trim());

        var second = AdminToken.LoadOrCreate(_directory);
        Assert.False(second.Created);
        Assert.Equal(first.Value, second.Value);
        Assert.True(second.Matches(first.Value));
        Assert.False(second.Matches(first.Value[..^1] + (first.Value[^1] == 'A' ? 'B' : 'A')));
        Assert.False(second.Matches(first.Value + "x"));
        Assert.False(second.Matches(""));
    }

    [Fact]
    public void TwoNodesGetDifferentTokens()
    {
        using var other = new TempDirectory();
        Assert.NotEqual(AdminToken.LoadOrCreate(_directory).Value, AdminToken.LoadOrCreate(other.Path).Value);
    }

    [Fact]
    public void ATokenFileOthersCanReadIsRefused()
    {
        AdminToken.LoadOrCreate(_directory);
        File.SetUnixFileMode(TokenPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var e = Assert.Throws<InvalidOperationException>(() => AdminToken.LoadOrCreate(_directory));
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("")]
    [InlineData("a token with spaces in it that is long enough to pass")]
    public void ADamagedTokenFileIsRefused(string content)
    {
        File.WriteAllText(TokenPath, content);
        File.SetUnixFileMode(TokenPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var e = Assert.Throws<InvalidOperationException>(() => AdminToken.LoadOrCreate(_directory));
        Assert.Contains("delete it", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("rdmakv-token-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
