using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Tests;

namespace RdmaKv.Bench.Tests;

/// <summary>A repository binary (rdmakv-server, rdmakv) run as a child with the same dotnet host; Dispose kills it and its children.</summary>
sealed partial class ChildProcess : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    readonly Process _process;
    readonly ProcessOutput _output;

    public ChildProcess(string dll, params string[] args)
        : this(new Dictionary<string, string>(), dll, args)
    {
    }

    /// <summary>The same, with <paramref name="environment"/> added to the child's environment.</summary>
    public ChildProcess(IReadOnlyDictionary<string, string> environment, string dll, params string[] args)
    {
        string path = Path.Combine(AppContext.BaseDirectory, dll);
        Assert.True(File.Exists(path), $"{path} is missing from the test output folder");
        var info = new ProcessStartInfo(ProcessOutput.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(path);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("RDMAKV_CONNECT");
        info.Environment.Remove("RDMAKV_BENCH");
        foreach (var (name, value) in environment) info.Environment[name] = value;
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
        _output = new ProcessOutput(_process);
        _process.StandardInput.Close();
    }

    public string Output => _output.Stdout;

    public string Errors => _output.Stderr;

    /// <summary>Waits until stdout holds <paramref name="text"/>; fails at once if the child exits first.</summary>
    public void WaitForOutput(string text) => _output.WaitFor(text, "the child", Patience);

    /// <summary>Waits for the child to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit()
    {
        Assert.True(_process.WaitForExit(Patience), $"the child did not exit within {Patience}:\n{Output}\n{Errors}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM (a node then removes its shared memory) and waits for the exit code.</summary>
    public int Stop()
    {
        Assert.Equal(0, kill(_process.Id, 15));
        return WaitForExit();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);


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
    }
}
