using System.Diagnostics;
using System.Net;
using RdmaKv.Client;
using RdmaKv.EndToEnd.Tests;
using RdmaKv.Tests;
using RdmaKv.Transport;

namespace RdmaKv.Verification;

/// <summary>
/// An <c>rdmakv-server</c> process that faults may kill, pause and restart under the same name,
/// data directory and ports. A killed process's shared memory stays where it was (as after a real
/// crash) until the node is disposed.
/// </summary>
sealed class NodeUnderTest : IDisposable
{
    readonly string[] _arguments;
    readonly string[]? _prefix;
    readonly IReadOnlyDictionary<string, string>? _environment;
    readonly List<ServerProcess> _gone = [];
    ServerProcess _current;

    public NodeUnderTest(string dataDirectory, string durability, string listenHost = "127.0.0.1", string[]? prefix = null,
        IReadOnlyDictionary<string, string>? environment = null, params string[] extra)
    {
        Name = "verify-" + Guid.NewGuid().ToString("N")[..12];
        DataDirectory = dataDirectory;
        UcxPort = ProcessOutput.FreeLoopbackPort();
        ListenHost = listenHost;
        _prefix = prefix;
        _environment = environment;
        _arguments = ["--durability", durability, "--listen", $"{listenHost}:{UcxPort}", "--admin-urls", "none", .. extra];
        try
        {
            _current = Launch();
        }
        catch
        {
            foreach (var s in _gone) s.Dispose();
            throw;
        }
    }

    public string Name { get; }
    public string DataDirectory { get; }
    public int UcxPort { get; }
    public string ListenHost { get; }
    public int Restarts { get; private set; }
    public string LocalUri => "local:" + Name;
    public string RemoteUri => $"ucx://{ListenHost}:{UcxPort}";
    public Process Process => _current.Process;
    public bool IsRunning => !_current.Process.HasExited;

    /// <summary>Everything every process of this node printed, oldest first.</summary>
    public string Output => string.Join("\n--- restart ---\n", _gone.Append(_current).Select(s => s.Output + s.Errors));

    public string Token => File.ReadAllText(Path.Combine(DataDirectory, "client-token")).Trim();

    public KvClient Connect(bool remote, TimeSpan timeout) => remote
        ? KvClient.Connect(RemoteUri, new KvClientOptions { Credential = Token, Timeout = timeout })
        : KvClient.Connect(LocalUri, new KvClientOptions { Timeout = timeout });

    ServerProcess Launch()
    {
        var process = _prefix is null
            ? ServerProcess.Start(Name, DataDirectory, _arguments)
            : ServerProcess.StartUnder(_prefix, _environment ?? new Dictionary<string, string>(), Name, DataDirectory, _arguments);
        Scenarios.Leftovers.Record("pid", $"{process.Process.Id} {Name}");
        Scenarios.Leftovers.Record("dir", new NodeDirectory(Name).Path);
        try
        {
            process.WaitForOutput("remote clients connect with");
        }
        catch
        {
            _gone.Add(process);
            throw;
        }
        return process;
    }

    public void Signal(int signal) => _current.Signal(signal);

    /// <summary>SIGKILL, and waits for the process to be gone.</summary>
    public void Kill()
    {
        _current.Signal(Binaries.SigKill);
        _current.WaitForExit();
    }

    /// <summary>Starts the node again (after a kill or an exit) under the same name, data directory and ports.</summary>
    public void Restart()
    {
        if (!_current.Process.HasExited) throw new InvalidOperationException($"node {Name} is still running");
        _gone.Add(_current);
        _current = Launch();
        Restarts++;
    }

    public void Dispose()
    {
        try
        {
            if (!_current.Process.HasExited) _current.Signal(18); // SIGCONT: a paused node cannot stop cleanly
        }
        catch (InvalidOperationException)
        {
        }
        _current.Dispose();
        foreach (var s in _gone) s.Dispose();
        string shm = new NodeDirectory(Name).Path;
        if (Directory.Exists(shm)) Directory.Delete(shm, recursive: true);
    }
}
