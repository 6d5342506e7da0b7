using System.Diagnostics;
using System.Net.Http;
using Xunit;

namespace RdmaKv.Tests;

/// <summary>
/// A real one-member etcd (/usr/bin/etcd, Debian's etcd-server) on free loopback ports with a
/// data directory of its own: started and waited for until /health answers, SIGKILLed, restarted
/// on the same ports and data, and on Dispose killed with its directory removed. Linked into the
/// test projects that need etcd.
///
/// etcd refuses a lease TTL below 1.5 election timeouts rounded up to whole seconds and grants that
/// minimum instead: 2 s with its defaults (100 ms heartbeat, 1000 ms election timeout). The
/// defaults here (50 ms, 250 ms) bring the minimum down to 1 s, so 1 s TTLs work as asked.
/// </summary>
sealed class EtcdProcess : IDisposable
{
    public const string Binary = "/usr/bin/etcd";

    readonly string _dataDir;
    readonly List<string> _args;
    readonly TimeSpan _patience;
    Process? _process;
    ProcessOutput? _output;

    /// <param name="heartbeat">etcd's --heartbeat-interval.</param>
    /// <param name="electionTimeout">etcd's --election-timeout; the smallest lease TTL etcd grants is 1.5 of it, rounded up to a second.</param>
    /// <param name="host">the address etcd serves clients on (its peer port stays on loopback); e.g. a veth's, for nodes in another network namespace.</param>
    public EtcdProcess(TimeSpan? heartbeat = null, TimeSpan? electionTimeout = null, TimeSpan? patience = null, string host = "127.0.0.1")
    {
        Host = host;
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: these tests need a real etcd; install the Debian package etcd-server (scripts/test.sh does)");
        _patience = patience ?? TimeSpan.FromSeconds(30);
        _dataDir = Directory.CreateTempSubdirectory("rdmakv-etcd-").FullName;
        ClientPort = ProcessOutput.FreeLoopbackPort();
        int peerPort = ProcessOutput.FreeLoopbackPort();
        while (peerPort == ClientPort) peerPort = ProcessOutput.FreeLoopbackPort();
        string peer = $"http://127.0.0.1:{peerPort}";
        _args =
        [
            "--name", "test",
            "--data-dir", _dataDir,
            "--listen-client-urls", Endpoint,
            "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"test={peer}",
            "--heartbeat-interval", ((int)(heartbeat ?? TimeSpan.FromMilliseconds(50)).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--election-timeout", ((int)(electionTimeout ?? TimeSpan.FromMilliseconds(250)).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--logger", "zap",
            "--log-level", "warn",
        ];
        Start();
    }

    public int ClientPort { get; }

    /// <summary>The address clients reach etcd on: 127.0.0.1 unless the constructor was given another.</summary>
    public string Host { get; }

    /// <summary>The client URL, e.g. http://127.0.0.1:PORT.</summary>
    public string Endpoint => $"http://{Host}:{ClientPort}";

    /// <summary>The running etcd's process id and data directory (which its command line names): for a leftover sweep.</summary>
    public (int Pid, string DataDirectory) Identity => (_process?.Id ?? 0, _dataDir);

    /// <summary>What etcd printed, for failure messages.</summary>
    public string Output => _output is null ? "" : _output.Stdout + _output.Stderr;

    /// <summary>SIGKILL: etcd stops at once, with no chance to tell its clients.</summary>
    public void Kill()
    {
        var process = _process ?? throw new InvalidOperationException("etcd is not running");
        process.Kill();
        Assert.True(process.WaitForExit(_patience), "the killed etcd did not exit");
        process.Dispose();
        _process = null;
    }

    /// <summary>Starts etcd again on the same ports and data directory (after <see cref="Kill"/>).</summary>
    public void Restart()
    {
        if (_process is not null) Kill();
        Start();
    }

    void Start()
    {
        var info = new ProcessStartInfo(Binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string a in _args) info.ArgumentList.Add(a);
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Binary}");
        _output = new ProcessOutput(_process);
        _process.StandardInput.Close();
        WaitUntilHealthy();
    }

    void WaitUntilHealthy()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process!.HasExited, $"etcd exited with {(_process.HasExited ? _process.ExitCode : 0)} while starting:\n{Output}");
            try
            {
                string body = http.GetStringAsync($"{Endpoint}/health").GetAwaiter().GetResult();
                if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal)) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            Assert.True(deadline.Elapsed < _patience, $"etcd did not become healthy within {_patience}:\n{Output}");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            ChildProcess.KillTree(_process);
            _process.Dispose();
            _process = null;
        }
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
