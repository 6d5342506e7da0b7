using System.Text.RegularExpressions;
using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// An <c>rdmakv-server</c> child process (the binary the build copies next to this assembly) with
/// its own name, temp data directory and admin plane on a free loopback port. Dispose kills it
/// and removes the data directory.
/// </summary>
sealed partial class ServerProcess : IDisposable
{
    public static readonly TimeSpan Patience = ChildProcess.DefaultPatience;

    readonly ChildProcess _child;
    readonly bool _ownsDataDirectory;

    public ServerProcess(string? dataDirectory = null, string adminUrls = "http://127.0.0.1:0", string? name = null, params string[] extra)
    {
        Name = name ?? "admin-e2e-" + Guid.NewGuid().ToString("N");
        _ownsDataDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("rdmakv-admin-e2e-").FullName;
        // Remote access (UCX) is off: its default port would be shared by parallel test nodes.
        _child = new ChildProcess(ServerDll(), ["--name", Name, "--data-dir", DataDirectory, "--memory", "64m", "--partitions", "2", "--listen", "none", "--admin-urls", adminUrls, .. extra]);
    }

    public string Name { get; }
    public string DataDirectory { get; }
    public string ConnectUri => "local:" + Name;

    public string Output => _child.Output;

    public string Errors => _child.Errors;

    /// <summary>Waits for "is up" and returns the admin plane's base URL, as the server printed it.</summary>
    public Uri WaitUntilUp()
    {
        WaitForOutput("is up");
        var match = AdminUrl().Match(Output);
        Assert.True(match.Success, $"server '{Name}' did not say where its admin plane listens:\n{Output}");
        return new Uri(match.Groups[1].Value + "/");
    }

    public void WaitForOutput(string text) => _child.WaitForOutput(text, $"server '{Name}'");

    /// <summary>Waits for the process to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit() => _child.WaitForExit();

    /// <summary>
    /// The server as its own build left it (src/RdmaKv.Server/bin/CONFIG/net10.0), with the
    /// dependencies its deps.json names; this test folder resolves shared-framework packages
    /// differently. The copy next to this assembly is the fallback.
    /// </summary>
    static string ServerDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name, configuration = output.Parent?.Name ?? "Release";
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "RdmaKv.Server", "bin", configuration, framework, "rdmakv-server.dll");
            if (File.Exists(Path.Combine(dir.FullName, "RdmaKv.sln")) && File.Exists(candidate)) return candidate;
        }
        return "rdmakv-server.dll";
    }

    [GeneratedRegex(@"Admin plane listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex AdminUrl();

    /// <summary>Stops the server as an operator would (SIGTERM), so it removes its shared memory; kills it if it hangs.</summary>
    public void Dispose()
    {
        // A stopping node checkpoints its store, which takes a while on a loaded machine.
        _child.StopWithin(Patience);
        _child.Dispose();
        // A node that had to be killed leaves its shared memory behind: remove it.
        string shm = Path.Combine(Environment.GetEnvironmentVariable("RDMAKV_SHM_DIR") ?? "/dev/shm", "rdmakv-" + Name);
        try
        {
            if (Directory.Exists(shm)) Directory.Delete(shm, recursive: true);
        }
        catch (IOException)
        {
        }
        if (_ownsDataDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
