using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.EndToEnd.Tests;
using RdmaKv.Tests;
using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification.Nemesis;

/// <summary>
/// Three nodes of one cluster file on loopback; each fault moves the slot of one of the
/// recorded keys to the next node with the CLI (<c>rdmakv cluster move</c>) while the load runs.
/// Remote clients only (the cluster router), connected through every node as a seed.
/// </summary>
sealed class SlotMove : Nemesis
{
    readonly List<ServerProcess> _servers = [];
    string _directory = "";
    string[] _ids = [];
    int[] _ucx = [];
    int[] _admin = [];
    List<string> _owners = [];
    ClusterMap? _map;
    int _moves;

    string ClusterFile => Path.Combine(_directory, "cluster.json");
    string ClientToken => Path.Combine(_directory, "client-token");
    string ClusterToken => Path.Combine(_directory, "cluster-token");
    string AdminToken => Path.Combine(_directory, "admin-token");
    string Seeds => "ucx://" + string.Join(",", _ucx.Select(p => $"127.0.0.1:{p}"));

    public override Func<KvClient> Start(Scenario scenario, string workDirectory)
    {
        if (!scenario.Remote) throw new ArgumentException("a slot move needs remote (ucx://) clients");
        _directory = workDirectory;
        _ids = ["node1", "node2", "node3"];
        _ucx = [.. _ids.Select(_ => ProcessOutput.FreeLoopbackPort())];
        _admin = [.. _ids.Select(_ => ProcessOutput.FreeLoopbackPort())];
        _owners = [.. Enumerable.Range(0, 12).Select(p => _ids[p % 3])];
        File.WriteAllText(ClusterFile, $$"""
            { "epoch": 1, "slots": 12, "nodes": [
            {{string.Join(",\n", _ids.Select((id, i) => $$"""{ "id": "{{id}}", "ucx": "127.0.0.1:{{_ucx[i]}}", "admin": "http://127.0.0.1:{{_admin[i]}}" }"""))}} ],
              "owners": [{{string.Join(",", _owners.Select(o => $"\"{o}\""))}}] }
            """);
        _map = ClusterMap.Load(ClusterFile);
        for (int i = 0; i < _ids.Length; i++)
            _servers.Add(ServerProcess.Start("verify-" + Guid.NewGuid().ToString("N")[..12], Path.Combine(_directory, _ids[i]), "--cluster", ClusterFile, "--node-id", _ids[i],
                "--client-token-file", ClientToken, "--cluster-token-file", ClusterToken, "--admin-token-file", AdminToken, "--durability", scenario.Durability));
        foreach (var s in _servers)
        {
            Leftovers.Record("pid", $"{s.Process.Id} {s.Name}");
            Leftovers.Record("dir", s.SharedMemoryPath);
        }
        foreach (var s in _servers) s.WaitForOutput("remote clients connect with");
        string token = File.ReadAllText(ClientToken).Trim();
        return () => KvClient.Connect(Seeds, new KvClientOptions { Credential = token, Timeout = ClientTimeout });
    }

    public override FaultResult Inject(Recorder recorder)
    {
        var keys = recorder.Keys.ToList();
        int slot = _map!.SlotOf(Encoding.UTF8.GetBytes(keys[_moves % keys.Count]));
        string from = _owners[slot];
        string to = _ids[(Array.IndexOf(_ids, from) + 1) % _ids.Length];
        int via = Array.IndexOf(_ids, from);
        var moved = EndToEnd.Tests.Cli.Run($"ucx://127.0.0.1:{_ucx[via]}", "cluster", "move", slot.ToString(System.Globalization.CultureInfo.InvariantCulture), to,
            "--admin", $"http://127.0.0.1:{_admin[via]}", "--admin-token-file", AdminToken);
        _moves++;
        if (moved.ExitCode != 0) return new($"move of slot {slot} from {from} to {to} failed", $"rdmakv cluster move: {moved}");
        _owners[slot] = to;
        return new($"moved slot {slot} from {from} to {to}");
    }

    public override string? Heal() =>
        _servers.FirstOrDefault(s => s.Process.HasExited) is { } dead ? $"node {dead.Name} exited with {dead.Process.ExitCode}" : null;

    public override string Output => string.Join("\n--- next node ---\n", _servers.Select(s => s.Output + s.Errors));

    public override void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
    }
}
