using RdmaKv.Tests;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// An <c>rdmakv-server</c> child process (the build copies it next to this assembly), started with
/// the same dotnet host (<see cref="ChildProcess"/>). It serves local
/// clients only (remote access and the admin plane off) unless <see cref="StartWithAdmin"/> gives
/// it an admin plane on a free port of its own: no test node touches the default ports.
/// </summary>
sealed class ServerProcess : IDisposable
{
    static readonly TimeSpan Patience = ChildProcess.DefaultPatience;
    readonly ChildProcess _child;
    readonly string _sharedMemory;

    public ServerProcess(string name, string dataDirectory, params string[] extra)
    {
        _sharedMemory = new RdmaKv.Transport.NodeDirectory(name).Path;
        string[] off = [.. (extra.Contains("--listen") ? [] : (string[])["--listen", "none"]), .. (extra.Contains("--admin-urls") ? [] : (string[])["--admin-urls", "none"])];
        _child = new ChildProcess("rdmakv-server.dll", ["--name", name, "--data-dir", dataDirectory, "--memory", "64m", "--partitions", "2", .. off, .. extra]);
    }

    /// <summary>Everything the server printed, standard output then standard error.</summary>
    public string Output => _child.Output + _child.Errors;

    /// <summary>Waits until the output holds <paramref name="text"/>; fails at once if the server exits first.</summary>
    public void WaitForOutput(string text) => _child.WaitForOutput(text, "the server");

    public void WaitUntilUp() => WaitForOutput("is up");

    public bool HasExited => _child.HasExited;

    /// <summary>Waits for the server to exit on its own (a start it refuses); returns its exit code.</summary>
    public int WaitForExit() => _child.WaitForExit();

    /// <summary>SIGTERM: a clean stop (drain, last checkpoint); returns the exit code.</summary>
    public int Terminate() => _child.Stop();

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
    public void Kill() => _child.Kill();

    public void Dispose()
    {
        _child.Dispose();
        // A killed node cannot remove its shared memory; the next start would sweep it, but the test ends here.
        try
        {
            if (Directory.Exists(_sharedMemory)) Directory.Delete(_sharedMemory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
