using System.Net.Sockets;
using RdmaKv.Client;
using RdmaKv.Tests;
using RdmaKv.Transport;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Another local user against a node's files, with real node processes: a directory or a link
/// planted where the node's directory goes, a node of another user, and the data directory's
/// modes. The other user is <c>nobody</c>; the tests run as root, as in CI.
/// </summary>
public sealed class LocalFileOwnershipTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _data = TestNode.NewDataDirectory();
    readonly string _scratch = Directory.CreateTempSubdirectory("rdmakv-owner-").FullName;
    readonly string _nodeDirectory;
    ServerProcess? _server;

    public LocalFileOwnershipTests()
    {
        _nodeDirectory = new NodeDirectory(_name).Path;
    }

    ServerProcess StartLocalOnly(params string[] extra) =>
        _server = ServerProcess.Start(_name, _data, ["--listen", "none", "--admin-urls", "none", .. extra]);

    static UnixFileStatus StatusOf(string path)
    {
        Assert.True(UnixFiles.TryGetStatus(path, out var status), $"{path} is gone");
        return status;
    }

    [Fact]
    public void ANodeRefusesADirectoryAnotherUserMadeAtItsPathAndWritesNothingIntoIt()
    {
        OtherUser.MakeDirectory(_nodeDirectory);

        var server = StartLocalOnly();

        Assert.Equal(3, server.WaitForExit());
        Assert.Contains(_nodeDirectory, server.Errors);
        Assert.Contains($"belongs to {OtherUser.Name} (uid {OtherUser.Uid})", server.Errors);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_nodeDirectory));
        Assert.Equal((OtherUser.Uid, (UnixFileMode)0x1FF), (StatusOf(_nodeDirectory).Uid, StatusOf(_nodeDirectory).Mode));
    }

    [Fact]
    public void ANodeRefusesASymbolicLinkAtItsPathAndLeavesWhatItPointsToAlone()
    {
        string target = Path.Combine(_scratch, "victim");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)0x1ED); // 0755
        string file = Path.Combine(target, "p0-g1.region");
        File.WriteAllBytes(file, new byte[8192]);
        File.SetUnixFileMode(file, (UnixFileMode)0x1A4); // 0644
        File.CreateSymbolicLink(_nodeDirectory, target);
        OtherUser.Give(_nodeDirectory);

        var server = StartLocalOnly();

        Assert.Equal(3, server.WaitForExit());
        Assert.Contains($"{_nodeDirectory} is a symbolic link to {target}", server.Errors);
        Assert.Equal([file], Directory.GetFiles(target));
        Assert.Equal(new byte[8192], File.ReadAllBytes(file));
        Assert.Equal((UnixFileMode)0x1ED, StatusOf(target).Mode);
        Assert.Equal((UnixFileMode)0x1A4, StatusOf(file).Mode);
    }

    [Fact]
    public void AClientRefusesADirectoryAnotherUserMadeWithASocketInIt()
    {
        // What the attacker of the issue did: their own directory, their own socket, forged regions.
        OtherUser.MakeDirectory(_nodeDirectory);
        using var forged = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        string socketPath = Path.Combine(_nodeDirectory, "node.sock");
        forged.Bind(new UnixDomainSocketEndPoint(socketPath));
        forged.Listen(8);
        OtherUser.Give(socketPath);

        var e = Assert.Throws<KvConnectionException>(() => KvClient.Connect("local:" + _name, new KvClientOptions { Timeout = TimeSpan.FromSeconds(2) }));

        Assert.Contains(_nodeDirectory, e.Message);
        Assert.Contains($"belongs to {OtherUser.Name} (uid {OtherUser.Uid})", e.Message);
        Assert.False(forged.Poll(0, SelectMode.SelectRead), "the client connected to the forged socket");
    }

    [Fact]
    public void AClientRefusesTheNodeOfAnotherUserUnlessItIsToldToTrustThatUser()
    {
        OtherUser.Give(_data);
        _server = ServerProcess.StartUnder(["setpriv", $"--reuid={OtherUser.Uid}", $"--regid={OtherUser.Uid}", "--clear-groups"],
            new Dictionary<string, string>(), _name, _data, "--listen", "none", "--admin-urls", "none");
        _server.WaitUntilUp();
        Assert.Equal(OtherUser.Uid, StatusOf(_nodeDirectory).Uid);

        var e = Assert.Throws<KvConnectionException>(() => KvClient.Connect("local:" + _name));
        Assert.Contains($"belongs to {OtherUser.Name} (uid {OtherUser.Uid})", e.Message);
        Assert.Contains("NodeOwner", e.Message);

        using var trusting = KvClient.Connect("local:" + _name, new KvClientOptions { NodeOwner = OtherUser.Uid });
        trusting.Put("k", "v");
        Assert.Equal("v"u8.ToArray(), trusting.Get("k"));
    }

    [Fact]
    public void TheDataDirectoryIsPrivateAfterSyncWritesAndACheckpoint()
    {
        Directory.Delete(_data);
        var server = StartLocalOnly("--durability", "sync");
        server.WaitUntilUp();
        using (var client = KvClient.Connect("local:" + _name))
        {
            for (int i = 0; i < 100; i++) client.Put($"key{i}", $"value{i}");
        }
        server.Signal(Binaries.SigTerm); // a clean stop takes a checkpoint

        Assert.Equal(0, server.WaitForExit());
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_data, "store", "checkpoints"), "*", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(_data, "aof"), "*", SearchOption.AllDirectories));
        AssertPrivate(_data);
    }

    [Fact]
    public void ADataDirectoryOfAnEarlierVersionIsMadePrivateAtStartAndTheLogSaysSo()
    {
        File.SetUnixFileMode(_data, (UnixFileMode)0x1ED); // 0755, as earlier versions made it
        string old = Path.Combine(_data, "aof");
        Directory.CreateDirectory(old);
        File.SetUnixFileMode(old, (UnixFileMode)0x1ED);
        string left = Path.Combine(_data, "left-by-an-earlier-version");
        File.WriteAllText(left, "value");
        File.SetUnixFileMode(left, (UnixFileMode)0x1A4); // 0644

        var server = StartLocalOnly();
        server.WaitUntilUp();

        Assert.Contains("private to this user", server.Output);
        AssertPrivate(_data);
    }

    /// <summary>The directory and every directory under it 0700, every file 0600 (nothing for the group or others).</summary>
    static void AssertPrivate(string directory)
    {
        var open = new[] { directory }.Concat(Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
            .Select(path => (path, status: StatusOf(path)))
            .Where(e => (e.status.Mode & UnixFileStatus.GroupOrOthers) != 0)
            .Select(e => $"{e.path} {Convert.ToString((int)e.status.Mode, 8)}")
            .ToList();
        Assert.True(open.Count == 0, "readable by other users:\n" + string.Join("\n", open));
    }

    public void Dispose()
    {
        // A planted link goes first: the server's cleanup removes its directory recursively.
        if (UnixFiles.TryGetStatus(_nodeDirectory, out var planted) && planted.Kind == UnixFileKind.SymbolicLink) File.Delete(_nodeDirectory);
        _server?.Dispose();
        if (Directory.Exists(_nodeDirectory)) Directory.Delete(_nodeDirectory, recursive: true);
        Directory.Delete(_scratch, recursive: true);
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
