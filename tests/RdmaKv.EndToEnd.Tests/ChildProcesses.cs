using System.Diagnostics;
using System.Text;
using RdmaKv.Tests;
using RdmaKv.Transport;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>The repository's binaries, which the build copies next to this assembly, started through <see cref="ChildProcess"/>.</summary>
static class Binaries
{
    public const int SigKill = ChildProcess.SigKill;
    public const int SigTerm = ChildProcess.SigTerm;

    public static readonly TimeSpan Patience = ChildProcess.DefaultPatience;

    public const string ServerDll = "rdmakv-server.dll";
    public const string CliDll = "rdmakv.dll";

    public static Process Start(string dll, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null) =>
        ChildProcess.StartProcess(dll, args, prefix, environment);

    public static void Signal(Process process, int signal) => ChildProcess.Signal(process, signal);

    public static void KillTree(Process process) => ChildProcess.KillTree(process);
}

/// <summary>An <c>rdmakv-server</c> child process and what it has printed so far.</summary>
sealed class ServerProcess : IDisposable
{
    readonly ChildProcess _child;

    ServerProcess(string name, string dataDirectory, IEnumerable<string> args, string[]? prefix = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        DataDirectory = dataDirectory;
        _child = new ChildProcess(Binaries.ServerDll, args, prefix, environment);
    }

    public string Name { get; }
    public string DataDirectory { get; }
    public Process Process => _child.Process;
    public string SharedMemoryPath => new NodeDirectory(Name).Path;

    public string Output => _child.Output;

    public string Errors => _child.Errors;

    /// <summary>Starts a node of 64 MiB in 2 partitions; <see cref="WaitUntilUp"/> waits for it to serve.</summary>
    public static ServerProcess Start(string name, string dataDirectory) =>
        new(name, dataDirectory, ["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2"]);

    /// <summary>Starts a node of <paramref name="memory"/> (e.g. 512m) in 2 partitions with more arguments.</summary>
    public static ServerProcess StartSized(string name, string dataDirectory, string memory, params string[] extra) =>
        new(name, dataDirectory, ["--name", name, "--data-dir", dataDirectory, "--memory", memory, "--partitions", "2", .. extra]);

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
    public void WaitForOutput(string text) => _child.WaitForOutput(text, $"server '{Name}'");

    /// <summary>Waits for the process to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit() => _child.WaitForExit();

    public void Signal(int signal) => _child.Signal(signal);

    /// <summary>Stops the server (SIGTERM, then SIGKILL if it lingers) and removes what a killed one leaves in /dev/shm.</summary>
    public void Dispose()
    {
        _child.StopWithin(TimeSpan.FromSeconds(15));
        _child.Dispose();
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
