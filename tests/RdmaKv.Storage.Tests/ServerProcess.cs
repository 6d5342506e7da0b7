using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Tests;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// An <c>rdmakv-server</c> child process (the build copies it next to this assembly), started with
/// the same dotnet host; the pattern of the end-to-end tests' ChildProcesses.cs. It serves local
/// clients only (remote access and the admin plane off) unless <see cref="StartWithAdmin"/> gives
/// it an admin plane on a free port of its own: no test node touches the default ports.
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
        string[] off = [.. (extra.Contains("--listen") ? [] : (string[])["--listen", "none"]), .. (extra.Contains("--admin-urls") ? [] : (string[])["--admin-urls", "none"])];
        foreach (string a in (string[])["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2", .. off, .. extra])
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

    /// <summary>The admin plane's base address (http://127.0.0.1:PORT), when started by <see cref="StartWithAdmin"/>.</summary>
    public string? AdminUrl { get; private init; }

    /// <summary>
    /// A server that is up, with its admin plane on a free loopback port. A port that was free when
    /// chosen can be taken before the server binds it (another test's connection gets it as its
    /// ephemeral port): then the server exits saying so, and it starts again on another port.
    /// </summary>
    public static ServerProcess StartWithAdmin(string name, string dataDirectory, params string[] extra)
    {
        for (int attempt = 1; ; attempt++)
        {
            string url = $"http://127.0.0.1:{ProcessOutput.FreeLoopbackPort()}";
            var server = new ServerProcess(name, dataDirectory, [.. extra, "--admin-urls", url]) { AdminUrl = url };
            try
            {
                server.WaitUntilUp();
                return server;
            }
            catch (Exception) when (attempt < 3 && server.Output.Contains("admin plane:", StringComparison.Ordinal))
            {
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    /// <summary>A node counter without a metric of its own (rdmakv_node_stat{name="NAME"} on /metrics); null when not reported.</summary>
    public long? NodeStat(string name)
    {
        Assert.NotNull(AdminUrl);
        using var http = new HttpClient { Timeout = Patience };
        string text = http.GetStringAsync(AdminUrl + "/metrics").GetAwaiter().GetResult();
        string prefix = $"rdmakv_node_stat{{name=\"{name}\"}} ";
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : (long)double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
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
