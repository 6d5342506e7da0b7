using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using RdmaKv.Tests;
using RdmaKv.Transport;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>Starts the repository's binaries, which the build copies next to this assembly, with the same dotnet host.</summary>
static partial class Binaries
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>How long a child may take for anything (startup on a loaded 2-core box included).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "rdmakv-server.dll");
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "rdmakv.dll");

    /// <param name="prefix">a command the host runs under, e.g. <c>ip netns exec NS</c>.</param>
    public static Process Start(string dll, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(dll), $"{dll} is missing from the test output folder");
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
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        // UCX's default memory hooks patch libc's munmap in place when UCX starts; a thread inside
        // munmap then returns into half-patched code. A node restarted while clients reconnect died
        // so in about half the runs of the verification kill scenario, never with the hooks off.
        // It is read when the library loads, so it must be in the environment (see README).
        info.Environment.TryAdd("UCX_MEM_MMAP_HOOK_MODE", "none");
        info.Environment.Remove("RDMAKV_CONNECT");
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
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
            process.WaitForExit(Patience);
        }
        catch (InvalidOperationException)
        {
            // It never started or already went away.
        }
    }


    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}

/// <summary>An <c>rdmakv-server</c> child process and what it has printed so far.</summary>
sealed class ServerProcess : IDisposable
{
    readonly Process _process;
    readonly ProcessOutput _output;

    ServerProcess(string name, string dataDirectory, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        DataDirectory = dataDirectory;
        _process = Binaries.Start(Binaries.ServerDll, args, prefix, environment);
        _output = new ProcessOutput(_process);
        _process.StandardInput.Close();
    }

    public string Name { get; }
    public string DataDirectory { get; }
    public Process Process => _process;
    public string SharedMemoryPath => new NodeDirectory(Name).Path;

    public string Output => _output.Stdout;

    public string Errors => _output.Stderr;

    /// <summary>Starts a node of 64 MiB in 2 partitions; <see cref="WaitUntilUp"/> waits for it to serve.</summary>
    public static ServerProcess Start(string name, string dataDirectory) =>
        new(name, dataDirectory, ["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2"]);

    /// <summary>Starts a node like <see cref="Start(string, string)"/> with more arguments.</summary>
    public static ServerProcess Start(string name, string dataDirectory, params string[] extra) =>
        new(name, dataDirectory, ["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2", .. extra]);

    /// <summary>
    /// Starts a node like <see cref="Start(string, string, string[])"/> with remote access and the
    /// admin plane on loopback ports of its own (never the defaults, which another node may hold),
    /// and waits until it is up or has exited. A port free when chosen can be taken before the node
    /// binds it (another test's connection gets it as its ephemeral port): the node then exits
    /// saying so, and starts again on new ports, up to three times. A node that exits for another
    /// reason is returned as it is, for the caller to check.
    /// </summary>
    public static ServerProcess StartOnFreePorts(string name, string dataDirectory, params string[] extra)
    {
        for (int attempt = 1; ; attempt++)
        {
            string ucx = $"127.0.0.1:{ProcessOutput.FreeLoopbackPort()}", admin = $"http://127.0.0.1:{ProcessOutput.FreeLoopbackPort()}";
            var server = Start(name, dataDirectory, [.. extra, "--listen", ucx, "--admin-urls", admin]);
            server.UcxAddress = ucx;
            server.AdminUrl = admin;
            try
            {
                server.WaitUntilUp();
                return server;
            }
            catch (Xunit.Sdk.XunitException) when (server.Process.WaitForExit(Binaries.Patience)) // its output ended: it exits
            {
                bool bindRaced = server.Errors.Contains("admin plane:", StringComparison.Ordinal) || server.Errors.Contains("remote access:", StringComparison.Ordinal);
                if (!bindRaced || attempt == 3) return server;
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    /// <summary>Where remote clients connect (HOST:PORT), for a node started by <see cref="StartOnFreePorts"/>.</summary>
    public string? UcxAddress { get; private set; }

    /// <summary>The admin plane's base address, for a node started by <see cref="StartOnFreePorts"/>.</summary>
    public string? AdminUrl { get; private set; }

    /// <summary>Starts a node under <paramref name="prefix"/> (e.g. in a network namespace) with its own environment.</summary>
    public static ServerProcess StartUnder(string[] prefix, IReadOnlyDictionary<string, string> environment, string name, string dataDirectory, params string[] extra) =>
        new(name, dataDirectory, ["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2", .. extra], prefix, environment);

    public void WaitUntilUp() => WaitForOutput("is up");

    /// <summary>Waits until stdout holds <paramref name="text"/>; fails at once if the server exits first.</summary>
    public void WaitForOutput(string text) => _output.WaitFor(text, $"server '{Name}'", Binaries.Patience);

    /// <summary>Waits for the process to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit()
    {
        Assert.True(_process.WaitForExit(Binaries.Patience), $"server '{Name}' did not exit within {Binaries.Patience}:\n{Output}\n{Errors}");
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public void Signal(int signal) => Binaries.Signal(_process, signal);


    /// <summary>Stops the server (SIGTERM, then SIGKILL if it lingers) and removes what a killed one leaves in /dev/shm.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Binaries.Signal(_process, Binaries.SigTerm);
                _process.WaitForExit(TimeSpan.FromSeconds(15));
            }
        }
        catch (InvalidOperationException)
        {
        }
        Binaries.KillTree(_process);
        _process.Dispose();
        try
        {
            if (Directory.Exists(SharedMemoryPath)) Directory.Delete(SharedMemoryPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What one run of the <c>rdmakv</c> CLI did.</summary>
sealed record CliResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    public override string ToString() => $"exit {ExitCode}, stdout \"{Text}\", stderr \"{Stderr}\"";
}

static class Cli
{
    /// <summary>Runs <c>rdmakv -c URI ARGS</c> to completion with stdout redirected; <paramref name="stdin"/> is piped in, then closed.</summary>
    public static CliResult Run(string uri, byte[]? stdin, params string[] args)
    {
        using var running = Start(uri, stdin, args);
        return running.Finish(Binaries.Patience);
    }

    public static CliResult Run(string uri, params string[] args) => Run(uri, null, args);

    /// <summary>Starts <c>rdmakv -c URI ARGS</c> and returns while it runs (a partition move the test interferes with).</summary>
    public static RunningCli Start(string uri, byte[]? stdin, params string[] args) => new(uri, stdin, args);
}

/// <summary>An <c>rdmakv</c> run still going; <see cref="Finish"/> waits for it, Dispose kills it if it is still there.</summary>
sealed class RunningCli : IDisposable
{
    readonly Process _process;
    readonly string[] _args;
    readonly MemoryStream _stdout = new();
    readonly Task _copyOut;
    readonly Task<string> _readErr;

    public RunningCli(string uri, byte[]? stdin, string[] args)
    {
        _args = args;
        _process = Binaries.Start(Binaries.CliDll, ["-c", uri, .. args]);
        _copyOut = _process.StandardOutput.BaseStream.CopyToAsync(_stdout);
        _readErr = _process.StandardError.ReadToEndAsync();
        if (stdin is not null) _process.StandardInput.BaseStream.Write(stdin);
        _process.StandardInput.Close();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits up to <paramref name="patience"/> for the run to end and its output to drain.</summary>
    public CliResult Finish(TimeSpan patience)
    {
        Assert.True(_process.WaitForExit(patience), $"rdmakv {string.Join(' ', _args)} did not finish within {patience}");
        Assert.True(Task.WaitAll([_copyOut, _readErr], Binaries.Patience), "rdmakv's output did not drain");
        return new CliResult(_process.ExitCode, _stdout.ToArray(), _readErr.Result);
    }

    public void Dispose()
    {
        Binaries.KillTree(_process);
        _process.Dispose();
    }
}
