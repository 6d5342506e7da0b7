using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RdmaKv.Cli;

/// <summary>
/// <c>rdmakv bench</c>: runs the benchmark binary (<c>rdmakv-bench.dll</c>, built by
/// bench/RdmaKv.Bench) as a child with the same arguments, standard streams and exit code, so the
/// command line itself depends on the client alone. The binary is <see cref="PathVariable"/> when
/// set, else the one next to rdmakv.dll.
/// </summary>
static partial class BenchLauncher
{
    public const string PathVariable = "RDMAKV_BENCH";
    public const string BenchDll = "rdmakv-bench.dll";

    /// <summary>The exit code when the benchmark binary is missing or cannot start (a shell's "command not found").</summary>
    public const int ExitNoBenchmark = 127;

    const int SigTerm = 15;

    public static string Locate() =>
        Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : Path.Combine(AppContext.BaseDirectory, BenchDll);

    public static int Run(IReadOnlyList<string> args)
    {
        string dll = Locate();
        if (!File.Exists(dll))
        {
            Console.Error.WriteLine($"rdmakv bench: the benchmark binary {dll} is missing. Publish it next to rdmakv.dll " +
                $"(dotnet publish bench/RdmaKv.Bench -c Release -o {AppContext.BaseDirectory.TrimEnd('/')}) " +
                $"or set {PathVariable} to the path of its {BenchDll}.");
            return ExitNoBenchmark;
        }
        var info = new ProcessStartInfo(DotnetHost()) { UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        Process child;
        try
        {
            child = Process.Start(info) ?? throw new Win32Exception("no process");
        }
        catch (Win32Exception e)
        {
            Console.Error.WriteLine($"rdmakv bench: could not start {info.FileName} {dll}: {e.Message}");
            return ExitNoBenchmark;
        }
        using (child)
        {
            // Ctrl+C reaches the child from the terminal itself (same process group): only stay up
            // for its report. A SIGTERM (docker stop, kill) is sent to this process alone: pass it on.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                _ = kill(child.Id, SigTerm);
            });
            child.WaitForExit();
            return child.ExitCode;
        }
    }

    /// <summary>The dotnet host that runs this process (or the one on PATH when started through the apphost).</summary>
    static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } host && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
