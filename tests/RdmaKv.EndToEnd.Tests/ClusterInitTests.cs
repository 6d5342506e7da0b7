using RdmaKv.Coordination;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary><c>rdmakv cluster init FILE --etcd URL</c> against a real etcd.</summary>
public sealed class ClusterInitTests : IDisposable
{
    readonly EtcdProcess _etcd = new();
    readonly string _dir = Directory.CreateTempSubdirectory("rdmakv-init-").FullName;

    [Fact]
    public void ClusterInitStoresTheFileAsTheMapOnceAndThenRefusesNamingTheStoredEpoch()
    {
        string first = WriteClusterFile("first.json", epoch: 3);
        string second = WriteClusterFile("second.json", epoch: 9);

        var (code, output, errors) = Cli("cluster", "init", first, "--etcd", _etcd.Endpoint);
        Assert.True(code == 0, errors);
        Assert.Contains("stored the cluster map", output);

        (code, _, errors) = Cli("cluster", "init", second, "--etcd", _etcd.Endpoint);
        Assert.Equal(2, code);
        Assert.Contains("already holds a cluster map", errors);
        Assert.Contains("epoch 3", errors);

        using var store = EtcdMapStore.Open([_etcd.Endpoint]);
        var (map, _) = store.ReadMap();
        Assert.Equal(3, map!.Epoch);
        Assert.Equal(["n1", "n2"], map.Nodes.Select(n => n.Id));
        // A file that names no replicas gets two copies of every slot where there are two nodes.
        Assert.Equal(2, map.Replicas);
        Assert.All(Enumerable.Range(0, map.SlotCount), s => Assert.Equal([map.Owners[s] == "n1" ? "n2" : "n1"], map.BackupsOf(s)));
        Assert.Contains("2 copies of every slot", output);
    }

    [Fact]
    public void ReplicasComeFromTheFlagThenTheFileAndCannotExceedTheNodes()
    {
        using var other = new EtcdProcess();
        string file = WriteClusterFile("one.json", epoch: 1, replicas: 1);
        var (code, _, errors) = Cli("cluster", "init", file, "--etcd", _etcd.Endpoint);
        Assert.True(code == 0, errors);
        using (var store = EtcdMapStore.Open([_etcd.Endpoint]))
            Assert.Equal(1, store.ReadMap().Map!.Replicas);

        (code, _, errors) = Cli("cluster", "init", file, "--etcd", other.Endpoint, "--replicas", "3");
        Assert.Equal(2, code);
        Assert.Contains("replicas 3", errors);

        (code, _, errors) = Cli("cluster", "init", file, "--etcd", other.Endpoint, "--replicas", "2");
        Assert.True(code == 0, errors);
        using (var store = EtcdMapStore.Open([other.Endpoint]))
            Assert.Equal(2, store.ReadMap().Map!.Replicas);
    }

    [Fact]
    public void ClusterInitSaysWhenEtcdCannotBeReachedOrTheFileIsBad()
    {
        string file = WriteClusterFile("cluster.json", epoch: 1);
        int port = ProcessOutput.FreeLoopbackPort();

        var (code, _, errors) = Cli("cluster", "init", file, "--etcd", $"127.0.0.1:{port}");
        Assert.Equal(3, code);
        Assert.Contains($"http://127.0.0.1:{port}", errors);

        File.WriteAllText(Path.Combine(_dir, "bad.json"), """{"epoch": 0, "nodes": []}""");
        (code, _, errors) = Cli("cluster", "init", Path.Combine(_dir, "bad.json"), "--etcd", _etcd.Endpoint);
        Assert.Equal(2, code);
        Assert.Contains("is not valid", errors);
    }

    string WriteClusterFile(string name, long epoch, int? replicas = null)
    {
        string path = Path.Combine(_dir, name);
        string copies = replicas is { } r ? $"\"replicas\": {r}, " : "";
        File.WriteAllText(path, $$"""{"epoch": {{epoch}}, "slots": 8, {{copies}}"nodes": [{"id": "n1", "ucx": "127.0.0.1:7001"}, {"id": "n2", "ucx": "127.0.0.1:7002"}]}""");
        return path;
    }

    static (int Code, string Output, string Errors) Cli(params string[] args)
    {
        using var cli = new ChildProcess(Binaries.CliDll, args);
        int code = cli.WaitForExit();
        return (code, cli.Output, cli.Errors);
    }

    public void Dispose()
    {
        _etcd.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
