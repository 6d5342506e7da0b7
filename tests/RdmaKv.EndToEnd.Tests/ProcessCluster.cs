using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Server processes node1..nodeN on loopback sharing one cluster file, one client token and one
/// admin token; a node can be killed and started again on its ports, and the CLI drives the
/// cluster through a node's admin plane.
/// </summary>
sealed class ProcessCluster : IDisposable
{
    readonly string _dir = TestNode.NewDataDirectory();
    readonly ServerProcess?[] _servers;
    readonly string[] _names;
    readonly string[] _owners;
    readonly string[] _extra;
    readonly List<string> _gone = [];
    int[] _admin = [];
    int[] _ucx = [];

    /// <param name="owners">each slot's owner at epoch 1 (node ids node1..node<paramref name="nodes"/>).</param>
    /// <param name="extra">more arguments for every node.</param>
    public ProcessCluster(int nodes, string[] owners, params string[] extra)
    {
        _servers = new ServerProcess?[nodes];
        _names = [.. Enumerable.Range(0, nodes).Select(_ => TestNode.UniqueName())];
        _owners = owners;
        _extra = extra;
        File = Path.Combine(_dir, "cluster.json");
        // A port that was free when chosen can be taken before the node binds it (another test's
        // connection gets it as its own ephemeral port): then all of them start again on new ports.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                StartAll();
                return;
            }
            catch (Exception e) when (attempt < 3 && (e.Message.Contains("cannot listen", StringComparison.Ordinal) || e.Message.Contains("already in use", StringComparison.OrdinalIgnoreCase)))
            {
                StopAll();
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    /// <summary>The cluster file every node started with.</summary>
    public string File { get; }

    public ClusterMap Map => ClusterMap.Load(File);

    public string ClientToken => Path.Combine(_dir, "client-token");

    /// <summary>One cluster credential for every node, as an operator copies one file to each.</summary>
    public string ClusterToken => Path.Combine(_dir, "cluster-token");

    public string AdminToken => Path.Combine(_dir, "admin-token");

    public ServerProcess Server(int index) => _servers[index] ?? throw new InvalidOperationException($"node{index + 1} is not running");

    /// <summary>Node <paramref name="index"/>'s data directory (it keeps its adopted map in cluster-map.json).</summary>
    public string DataDirectory(int index) => Path.Combine(_dir, $"node{index + 1}");

    public string Seeds(params int[] nodes) => "ucx://" + string.Join(",", nodes.Select(i => $"127.0.0.1:{_ucx[i]}"));

    public KvClient Connect(string seeds, TimeSpan timeout) =>
        KvClient.Connect(seeds, new KvClientOptions { Credential = System.IO.File.ReadAllText(ClientToken).Trim(), Timeout = timeout });

    /// <summary>Runs <c>rdmakv ARGS</c> against node <paramref name="via"/>'s admin plane, to completion.</summary>
    public CliResult Admin(int via, params string[] args) => Cli.Run(Seeds(via), AdminArgs(via, args));

    /// <summary>Starts <c>rdmakv ARGS</c> against node <paramref name="via"/>'s admin plane and returns while it runs.</summary>
    public RunningCli StartAdmin(int via, params string[] args) => Cli.Start(Seeds(via), null, AdminArgs(via, args));

    string[] AdminArgs(int via, string[] args) => [.. args, "--admin", $"http://127.0.0.1:{_admin[via]}", "--admin-token-file", AdminToken];

    /// <summary>SIGKILL of node <paramref name="index"/>; its shared memory is removed, its data directory stays.</summary>
    public void Kill(int index)
    {
        var server = Server(index);
        server.Signal(Binaries.SigKill);
        server.WaitForExit();
        _gone.Add($"node{index + 1} (killed) printed:\n{server.Output}{server.Errors}");
        server.Dispose();
        _servers[index] = null;
    }

    /// <summary>Starts node <paramref name="index"/> again on its ports and data directory, and waits until it serves.</summary>
    public void Restart(int index)
    {
        if (_servers[index] is not null) throw new InvalidOperationException($"node{index + 1} is still running");
        StartNode(index);
        Server(index).WaitForOutput("remote clients connect with");
    }

    /// <summary>What every node printed, the killed ones included: for the message of a failed test.</summary>
    public string Describe() =>
        string.Join("\n", _gone.Concat(_servers.Select((s, i) => s is null ? "" : $"node{i + 1} printed:\n{s.Output}{s.Errors}")));

    void StartAll()
    {
        _ucx = [.. _servers.Select(_ => ProcessOutput.FreeLoopbackPort())];
        _admin = [.. _servers.Select(_ => ProcessOutput.FreeLoopbackPort())];
        var nodes = Enumerable.Range(0, _servers.Length).Select(i =>
            $$"""{ "id": "node{{i + 1}}", "ucx": "127.0.0.1:{{_ucx[i]}}", "admin": "http://127.0.0.1:{{_admin[i]}}" }""");
        System.IO.File.WriteAllText(File, $$"""
            { "epoch": 1, "slots": {{_owners.Length}}, "nodes": [ {{string.Join(", ", nodes)}} ],
              "owners": [{{string.Join(",", _owners.Select(o => $"\"{o}\""))}}] }
            """);
        for (int i = 0; i < _servers.Length; i++) StartNode(i);
        foreach (var s in _servers) s!.WaitForOutput("remote clients connect with");
    }

    void StartNode(int index) =>
        _servers[index] = ServerProcess.Start(_names[index], DataDirectory(index), [
            "--cluster", File, "--node-id", $"node{index + 1}",
            "--client-token-file", ClientToken, "--cluster-token-file", ClusterToken, "--admin-token-file", AdminToken, .. _extra]);

    void StopAll()
    {
        for (int i = 0; i < _servers.Length; i++)
        {
            _servers[i]?.Dispose();
            _servers[i] = null;
            if (Directory.Exists(DataDirectory(i))) Directory.Delete(DataDirectory(i), recursive: true);
        }
    }

    public void Dispose()
    {
        StopAll();
        Directory.Delete(_dir, recursive: true);
    }
}
