namespace RdmaKv.EndToEnd.Tests;

/// <summary>The rdmakv-server process: holding its name, stopping on SIGTERM, recovering after SIGKILL.</summary>
public sealed class ServerLifecycleTests : IDisposable
{
    readonly string _name = TestNode.UniqueName();
    readonly string _dataDirectory = TestNode.NewDataDirectory();
    readonly List<ServerProcess> _servers = [];

    /// <summary>A node on ports of its own, up or exited (<see cref="ServerProcess.StartOnFreePorts"/>).</summary>
    ServerProcess Start()
    {
        var server = ServerProcess.StartOnFreePorts(_name, _dataDirectory);
        _servers.Add(server);
        return server;
    }

    ServerProcess StartAndWait()
    {
        var server = Start();
        server.WaitUntilUp();
        return server;
    }

    string Uri => "local:" + _name;

    [Fact]
    public void SecondServerWithTheSameNameExitsNonZeroAndSaysTheNameIsTaken()
    {
        var first = StartAndWait();
        Assert.Equal(0, Cli.Run(Uri, "put", "k", "first").ExitCode);

        var second = Start();
        int exit = second.WaitForExit();

        Assert.NotEqual(0, exit);
        Assert.Contains($"already running with the name '{_name}'", second.Errors);
        Assert.DoesNotContain("is up", second.Output);
        // The loser swept nothing: the first server still serves what it held.
        var get = Cli.Run(Uri, "get", "k");
        Assert.Equal((0, "first"), (get.ExitCode, get.Text));
        Assert.False(first.Process.HasExited);

        first.Signal(Binaries.SigTerm);
        Assert.Equal(0, first.WaitForExit());
        Assert.False(Directory.Exists(first.SharedMemoryPath), $"{first.SharedMemoryPath} outlived the server");
    }

    [Fact]
    public void SigtermStopsTheServerWithExitZeroAndRemovesItsSharedMemory()
    {
        var server = StartAndWait();
        Assert.Equal(0, Cli.Run(Uri, "put", "k", "v").ExitCode);
        Assert.True(Directory.Exists(server.SharedMemoryPath));

        server.Signal(Binaries.SigTerm);

        Assert.Equal(0, server.WaitForExit());
        Assert.False(Directory.Exists(server.SharedMemoryPath), $"{server.SharedMemoryPath} outlived the server");
        Assert.Contains("stopped", server.Output);
        Assert.Equal(3, Cli.Run(Uri, "get", "k").ExitCode);
    }

    [Fact]
    public void SigtermAsSoonAsTheNodeIsUpStillStopsItCleanly()
    {
        // "is up" is printed before the host runs: a SIGTERM in between must not be the runtime's exit 143.
        var server = StartAndWait();
        server.Signal(Binaries.SigTerm);

        Assert.Equal(0, server.WaitForExit());
        Assert.False(Directory.Exists(server.SharedMemoryPath), $"{server.SharedMemoryPath} outlived the server");
        Assert.Contains("stopped", server.Output);
    }

    [Fact]
    public void ServerKilledWithSigkillLeavesItsDirectoryAndARestartSweepsIt()
    {
        var killed = StartAndWait();
        Assert.Equal(0, Cli.Run(Uri, "put", "k", "before the crash").ExitCode);

        killed.Signal(Binaries.SigKill);
        Assert.NotEqual(0, killed.WaitForExit());
        string directory = killed.SharedMemoryPath;
        Assert.True(File.Exists(Path.Combine(directory, "node.sock")), "a killed server cannot clean up, yet its socket is gone");
        Assert.NotEmpty(Directory.GetFiles(directory, "*.region"));
        // A region of a partition the next start will not have: only a sweep removes it.
        string leftover = Path.Combine(directory, "p7-g7.region");
        File.WriteAllBytes(leftover, new byte[4096]);

        // Nothing answers on the stale socket.
        var orphan = Cli.Run(Uri, "get", "k");
        Assert.Equal(3, orphan.ExitCode);
        Assert.Contains($"no node named '{_name}'", orphan.Stderr);

        var restarted = StartAndWait();
        Assert.False(File.Exists(leftover), "the restart did not sweep what the killed server left");
        Assert.Equal(0, Cli.Run(Uri, "put", "k", "after the restart").ExitCode);
        var get = Cli.Run(Uri, "get", "k");
        Assert.Equal((0, "after the restart"), (get.ExitCode, get.Text));
        Assert.Equal(1, Cli.Run(Uri, "get", "never").ExitCode);

        restarted.Signal(Binaries.SigTerm);
        Assert.Equal(0, restarted.WaitForExit());
        Assert.False(Directory.Exists(directory), $"{directory} outlived the restarted server");
    }

    public void Dispose()
    {
        foreach (var server in _servers) server.Dispose();
        // A server killed above leaves its directory only if a test failed before the restart swept it.
        string shm = new Transport.NodeDirectory(_name).Path;
        if (Directory.Exists(shm)) Directory.Delete(shm, recursive: true);
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
