using RdmaKv.Tests;

namespace RdmaKv.Transport.Tests;

/// <summary>
/// What another local user can plant where a node's directory goes (a directory of their own, a
/// symbolic link), and what the node and its clients do about it. Needs root, as in CI.
/// </summary>
public sealed class NodeDirectoryOwnerTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("rdmakv-owner-").FullName;
    readonly NodeDirectory _directory;

    public NodeDirectoryOwnerTests()
    {
        _directory = new NodeDirectory("owner-" + Guid.NewGuid().ToString("N")[..12], _root);
    }

    static UnixFileMode ModeOf(string path) => File.GetUnixFileMode(path);

    [Fact]
    public void ADirectoryAnotherUserMadeFirstIsRefusedAndNothingIsWrittenIntoIt()
    {
        OtherUser.MakeDirectory(_directory.Path);

        var e = Assert.Throws<UnauthorizedAccessException>(() => NodeLock.Acquire(_directory));

        Assert.Contains(_directory.Path, e.Message);
        Assert.Contains($"{OtherUser.Name} (uid {OtherUser.Uid})", e.Message);
        Assert.Contains("--name", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory.Path));
        Assert.Equal((UnixFileMode)0x1FF, ModeOf(_directory.Path)); // not chmod'ed either
    }

    [Fact]
    public void ASymbolicLinkAtThePathIsRefusedAndItsTargetIsUntouched()
    {
        string target = Path.Combine(_root, "victim");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)0x1ED); // 0755
        string region = Path.Combine(target, "p0-g1.region"), other = Path.Combine(target, "precious");
        File.WriteAllBytes(region, new byte[8192]);
        File.WriteAllText(other, "keep me");
        File.SetUnixFileMode(other, (UnixFileMode)0x1A4); // 0644
        File.CreateSymbolicLink(_directory.Path, target);
        OtherUser.Give(_directory.Path);

        var e = Assert.Throws<UnauthorizedAccessException>(() => NodeLock.Acquire(_directory));

        Assert.Contains("symbolic link", e.Message);
        Assert.Contains(target, e.Message);
        Assert.Equal(["p0-g1.region", "precious"], Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.Equal("keep me", File.ReadAllText(other));
        Assert.Equal(new byte[8192], File.ReadAllBytes(region));
        Assert.Equal((UnixFileMode)0x1ED, ModeOf(target));
        Assert.Equal((UnixFileMode)0x1A4, ModeOf(other));
    }

    [Fact]
    public void AStaleDirectoryOfTheSameUserIsTightenedAndALinkInItIsRemovedWithoutFollowingIt()
    {
        Directory.CreateDirectory(_directory.Path);
        File.SetUnixFileMode(_directory.Path, (UnixFileMode)0x1FF);
        string outside = Path.Combine(_root, "outside.bin");
        File.WriteAllBytes(outside, Enumerable.Repeat((byte)0xAB, 8192).ToArray());
        File.CreateSymbolicLink(_directory.RegionPath(0, 3), outside);

        using (NodeLock.Acquire(_directory))
        {
            Assert.Equal(UnixFiles.OwnerOnlyDirectory, ModeOf(_directory.Path));
            Assert.False(File.Exists(_directory.RegionPath(0, 3)));
        }
        Assert.Equal(Enumerable.Repeat((byte)0xAB, 8192).ToArray(), File.ReadAllBytes(outside));
    }

    [Fact]
    public void ARootThatEveryoneCanWriteWithoutTheStickyBitIsRefused()
    {
        File.SetUnixFileMode(_root, (UnixFileMode)0x1FF);

        var e = Assert.Throws<UnauthorizedAccessException>(() => NodeLock.Acquire(_directory));

        Assert.Contains("sticky", e.Message);
        Assert.False(Directory.Exists(_directory.Path));
    }

    [Fact]
    public void AClientRefusesADirectoryAnotherUserOwnsUnlessItIsTheOwnerItExpects()
    {
        OtherUser.MakeDirectory(_directory.Path);
        File.SetUnixFileMode(_directory.Path, UnixFiles.OwnerOnlyDirectory);

        var e = Assert.Throws<UnauthorizedAccessException>(() => _directory.VerifyOwner(expectedOwner: null));
        Assert.Contains($"{OtherUser.Name} (uid {OtherUser.Uid})", e.Message);
        Assert.Contains("NodeOwner", e.Message);

        Assert.Equal(OtherUser.Uid, _directory.VerifyOwner(expectedOwner: OtherUser.Uid));
    }

    [Fact]
    public void AClientRefusesADirectoryOthersCanWriteEvenWhenItsOwnerIsTrusted()
    {
        Directory.CreateDirectory(_directory.Path);
        File.SetUnixFileMode(_directory.Path, (UnixFileMode)0x1FF);

        var e = Assert.Throws<UnauthorizedAccessException>(() => _directory.VerifyOwner(expectedOwner: null));

        Assert.Contains("writable by other users", e.Message);
    }

    [Fact]
    public void AClientAcceptsItsOwnNodesDirectoryAndSeesNoneWhenNothingIsThere()
    {
        Assert.Null(_directory.VerifyOwner(expectedOwner: null));
        using (NodeLock.Acquire(_directory))
            Assert.Equal(UnixFiles.EffectiveUid, _directory.VerifyOwner(expectedOwner: null));
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true); // removes a link, never what it points to
    }
}
