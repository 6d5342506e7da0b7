using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit;

namespace RdmaKv.Tests;

/// <summary>
/// A repository binary (rdmakv-server, rdmakv, rdmakv-bench) run as a child with the same dotnet
/// host and what it has printed so far; Dispose kills it and everything it started. The one way
/// test projects start children: linked into each of them.
/// </summary>
sealed partial class ChildProcess : IDisposable
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>How long a child may take for anything (startup on a loaded 2-core box included).</summary>
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(30);

    readonly ProcessOutput _output;
    readonly string _who;

    /// <param name="dll">a path, or a file name next to the test assembly.</param>
    /// <param name="prefix">a command the host runs under, e.g. <c>ip netns exec NS</c>.</param>
    public ChildProcess(string dll, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? patience = null)
    {
        Process = StartProcess(dll, args, prefix, environment);
        _output = new ProcessOutput(Process);
        Process.StandardInput.Close();
        _who = Path.GetFileNameWithoutExtension(dll);
        Patience = patience ?? DefaultPatience;
    }

    public Process Process { get; }
    public TimeSpan Patience { get; }
    public string Output => _output.Stdout;
    public string Errors => _output.Stderr;
    public bool HasExited => Process.HasExited;

    /// <summary>Starts <paramref name="dll"/> with redirected standard streams, the caller reading them.</summary>
    public static Process StartProcess(string dll, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string path = Path.Combine(AppContext.BaseDirectory, dll);
        Assert.True(File.Exists(path), $"{path} is missing from the test output folder");
        var info = new ProcessStartInfo(prefix is { Length: > 0 } ? prefix[0] : ProcessOutput.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (prefix is { Length: > 0 })
        {
            foreach (string p in prefix[1..]) info.ArgumentList.Add(p);
            info.ArgumentList.Add(ProcessOutput.DotnetHost());
        }
        info.ArgumentList.Add(path);
        foreach (string a in args) info.ArgumentList.Add(a);
        // What the developer's shell may hold must not steer a test's child.
        info.Environment.Remove("RDMAKV_CONNECT");
        info.Environment.Remove("RDMAKV_BENCH");
        info.Environment.Remove("ASPNETCORE_URLS");
        // UCX's default memory hooks patch libc's munmap in place when UCX starts; a thread inside
        // munmap then returns into half-patched code. A node restarted while clients reconnect died
        // so in about half the runs of the verification kill scenario, never with the hooks off.
        // It is read when the library loads, so it must be in the environment (see README).
        info.Environment.TryAdd("UCX_MEM_MMAP_HOOK_MODE", "none");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
    }

    /// <summary>Waits until stdout holds <paramref name="text"/>; fails at once if the child exits first.</summary>
    public void WaitForOutput(string text, string? who = null) => _output.WaitFor(text, who ?? _who, Patience);

    /// <summary>Waits for the child to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit()
    {
        Assert.True(Process.WaitForExit(Patience), $"{_who} did not exit within {Patience}:\n{Output}\n{Errors}");
        Process.WaitForExit(); // drains the redirected streams
        return Process.ExitCode;
    }

    public void Signal(int signal) => Signal(Process, signal);

    /// <summary>SIGTERM (a node then drains, checkpoints and removes its shared memory); returns the exit code.</summary>
    public int Stop()
    {
        Signal(SigTerm);
        return WaitForExit();
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        Signal(SigKill);
        Assert.True(Process.WaitForExit(Patience), $"the killed {_who} did not exit");
    }

    /// <summary>SIGTERM and up to <paramref name="grace"/> to exit, then SIGKILL for what is left.</summary>
    public void StopWithin(TimeSpan grace)
    {
        try
        {
            if (!Process.HasExited && kill(Process.Id, SigTerm) == 0) Process.WaitForExit(grace);
        }
        catch (InvalidOperationException)
        {
        }
        KillTree(Process);
    }

    /// <summary>Sends a signal; Process.Kill only sends SIGKILL.</summary>
    public static void Signal(Process process, int signal)
    {
        if (kill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Kills a child that is still running, with everything it started.</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(DefaultPatience);
        }
        catch (InvalidOperationException)
        {
            // It never started or already went away.
        }
    }

    public void Dispose()
    {
        KillTree(Process);
        Process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
