using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Tests;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// An <c>rdmakv-server</c> child process (the build copies it next to this assembly), started with
/// the same dotnet host; the pattern of the end-to-end tests' ChildProcesses.cs.
/// </summary>
sealed partial class ServerProcess : IDisposable
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    readonly Process _process;
    readonly ProcessOutput _output;

    readonly string _sharedMemory;

    public ServerProcess(string name, string dataDirectory, params string[] extra)
    {
        _sharedMemory = new RdmaKv.Transport.NodeDirectory(name).Path;
        string dll = Path.Combine(AppContext.BaseDirectory, "rdmakv-server.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing from the test output folder");
        var info = new ProcessStartInfo(ProcessOutput.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        string[] admin = extra.Contains("--admin-urls") ? [] : ["--admin-urls", "none"];
        foreach (string a in (string[])["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2", .. admin, .. extra])
            info.ArgumentList.Add(a);
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start rdmakv-server");
        _output = new ProcessOutput(_process);
        _process.StandardInput.Close();
    }

    /// <summary>Everything the server printed, standard output then standard error.</summary>
    public string Output => _output.Stdout + _output.Stderr;

    /// <summary>Waits until the output holds <paramref name="text"/>; fails at once if the server exits first.</summary>
    public void WaitForOutput(string text) => _output.WaitFor(text, "the server", Patience);

    public void WaitUntilUp() => WaitForOutput("is up");

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the server to exit on its own (a start it refuses); returns its exit code.</summary>
    public int WaitForExit()
    {
        Assert.True(_process.WaitForExit(Patience), $"the server did not exit; it printed: {Output}");
        _process.WaitForExit(); // and its output is read to the end
        return _process.ExitCode;
    }

    /// <summary>SIGTERM: a clean stop (drain, last checkpoint); returns the exit code.</summary>
    public int Terminate()
    {
        Assert.Equal(0, kill(_process.Id, 15));
        return WaitForExit();
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        Assert.Equal(0, kill(_process.Id, 9));
        Assert.True(_process.WaitForExit(Patience), "the killed server did not exit");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(Patience);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        // A killed node cannot remove its shared memory; the next start would sweep it, but the test ends here.
        try
        {
            if (Directory.Exists(_sharedMemory)) Directory.Delete(_sharedMemory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
