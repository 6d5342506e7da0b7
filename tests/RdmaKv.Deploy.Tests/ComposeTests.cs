using System.Text.Json;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// docker-compose.yml as docker-compose itself reads it (<c>docker-compose config</c>, which needs
/// no engine), against the topology of deploy/local-cluster.sh and deploy/cluster.json (the same
/// nodes and ports on a subnet of its own, named by deploy/cluster.compose.json): etcd, a one-shot
/// init that seeds the map there, and nodes that run with <c>--etcd</c> once it has.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed class ComposeTests(PublishedBuild build)
{
    const string ClusterPath = "/etc/rdmakv/cluster.json";
    const string EtcdUrl = "http://etcd:2379";
    static readonly Lazy<JsonElement> Config = new(ReadConfig);

    static JsonElement Services => Config.Value.GetProperty("services");

    /// <summary>The services that run a storage node: those whose command names a node id.</summary>
    static IEnumerable<JsonProperty> Nodes => Services.EnumerateObject()
        .Where(s => s.Value.TryGetProperty("command", out var c) && c.ValueKind == JsonValueKind.Array && Strings(c).Contains("--node-id"));

    /// <summary>The normalized file docker-compose prints, converted to JSON with PyYAML (docker-compose's own YAML library).</summary>
    static JsonElement ReadConfig()
    {
        var config = Tool.Run("docker-compose", "--file", Repository.Compose, "--project-directory", Repository.Root, "config").Succeeded();
        var json = Tool.Run("python3", ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"], input: config.Output).Succeeded();
        using var document = JsonDocument.Parse(json.Output);
        return document.RootElement.Clone();
    }

    static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.ToString())];

    static string After(string[] args, string option)
    {
        int at = Array.IndexOf(args, option);
        Assert.True(at >= 0 && at + 1 < args.Length, $"'{option} VALUE' is missing from [{string.Join(' ', args)}]");
        return args[at + 1];
    }

    [Fact]
    public void ComposeNodesAreTheNodesOfTheLocalScriptAndOfTheClusterFile()
    {
        var script = Topology.FromScript();
        var fromCompose = new List<ClusterNode>();
        foreach (var service in Nodes)
        {
            string[] command = Strings(service.Value.GetProperty("command"));
            string id = After(command, "--node-id");
            Assert.Equal(service.Name, id);
            // The map comes from etcd, which init seeded from the cluster file: the node reads no file.
            Assert.Equal(EtcdUrl, After(command, "--etcd"));
            Assert.DoesNotContain("--cluster", command);
            string address = service.Value.GetProperty("networks").GetProperty("rdmakv").GetProperty("ipv4_address").GetString()!;
            // With --etcd a node listens where it is told; that must be its address in the map.
            Assert.Equal($"{address}:7400", After(command, "--listen"));
            Assert.Equal($"http://{address}:7480", After(command, "--admin-urls"));
            fromCompose.Add(new ClusterNode(id, $"{address}:7400", $"http://{address}:7480"));
        }
        Assert.Equal(3, fromCompose.Count);
        // The same nodes and ports on the compose network's subnet, which its own cluster file names.
        Assert.Equal([.. script.Select(n => new ClusterNode(n.Id, OnComposeSubnet(n.Ucx), OnComposeSubnet(n.Admin!)))], fromCompose);
        var composeFile = ClusterMap.Load(Repository.ComposeClusterFile);
        Assert.Equal(fromCompose, composeFile.Nodes);
        // Two copies of every slot, as local-cluster.sh with etcd: each slot has a backup on another node.
        Assert.Equal(2, composeFile.Replicas);
        Assert.Equal(composeFile.Replicas, Topology.ClusterFileOfScript().Replicas);
        Assert.All(Enumerable.Range(0, composeFile.SlotCount), s => Assert.NotEqual(composeFile.Owners[s], Assert.Single(composeFile.BackupsOf(s))));

        var clusterFile = ClusterMap.Load(Repository.ClusterFile);
        Assert.Equal(clusterFile.SlotCount, composeFile.SlotCount);
        Assert.Equal(clusterFile.Epoch, composeFile.Epoch);
        Assert.Equal(clusterFile.Owners, composeFile.Owners);
        Assert.Equal(script, clusterFile.Nodes);
        var generated = Topology.ClusterFileOfScript();
        Assert.Equal(clusterFile.Nodes, generated.Nodes);
        Assert.Equal(1, Topology.ClusterFileOfScript(etcd: false).Replicas);
        Assert.Equal(clusterFile.SlotCount, generated.SlotCount);
        Assert.Equal(clusterFile.Epoch, generated.Epoch);
        Assert.Equal(clusterFile.Owners, generated.Owners);
        Assert.Equal(256, clusterFile.SlotCount);
        // Every node owns some slots, or the cluster would carry a node for nothing.
        Assert.All(clusterFile.Nodes, n => Assert.Contains(n.Id, clusterFile.Owners));

        // The loopback variant has the same nodes at 127.0.0.1 with ports of their own.
        var loopback = Topology.FromScript(loopback: true);
        Assert.Equal(script.Select(n => n.Id), loopback.Select(n => n.Id));
        Assert.Equal(loopback, Topology.ClusterFileOfScript(loopback: true).Nodes);
        Assert.Equal(6, loopback.SelectMany(n => new[] { n.Ucx, new Uri(n.Admin!).Authority }).Distinct().Count());
        Assert.All(loopback, n => Assert.StartsWith("127.0.0.1:", n.Ucx));
    }

    /// <summary>The local cluster's 10.90.0.X as the compose network's 10.91.0.X.</summary>
    static string OnComposeSubnet(string address) => address.Replace("10.90.0.", "10.91.0.", StringComparison.Ordinal);

    [Fact]
    public void EveryNodeSharesOneTokenAndKeepsItsOwnDataVolume()
    {
        var dataVolumes = new HashSet<string>();
        var tokenFiles = new HashSet<string>();
        var clusterTokenFiles = new HashSet<string>();
        foreach (var service in Nodes)
        {
            string[] command = Strings(service.Value.GetProperty("command"));
            string[] volumes = Strings(service.Value.GetProperty("volumes"));
            string dataDir = After(command, "--data-dir");
            string data = Assert.Single(volumes, v => v.Split(':')[1] == dataDir);
            Assert.False(data.StartsWith('/'), $"{service.Name}'s data directory is a bind mount ({data}), not a named volume");
            Assert.True(dataVolumes.Add(data.Split(':')[0]), $"{service.Name} shares its data volume {data}");
            string tokenFile = After(command, "--client-token-file");
            string token = Assert.Single(volumes, v => v.Split(':')[1] == Path.GetDirectoryName(tokenFile));
            tokenFiles.Add($"{token.Split(':')[0]}:{tokenFile}");
            string clusterTokenFile = After(command, "--cluster-token-file");
            string clusterToken = Assert.Single(volumes, v => v.Split(':')[1] == Path.GetDirectoryName(clusterTokenFile));
            clusterTokenFiles.Add($"{clusterToken.Split(':')[0]}:{clusterTokenFile}");
            Assert.Equal(service.Name, After(command, "--name"));
        }
        Assert.Equal(3, dataVolumes.Count);
        Assert.DoesNotContain("etcd-data", dataVolumes);
        Assert.Single(tokenFiles);
        Assert.Single(clusterTokenFiles);
        // The cluster credential is the nodes' alone: no other service mounts its volume.
        string clusterVolume = clusterTokenFiles.Single().Split(':')[0];
        Assert.NotEqual(tokenFiles.Single().Split(':')[0], clusterVolume);
        foreach (var other in Services.EnumerateObject().Where(s => !Nodes.Any(n => n.Name == s.Name)))
            Assert.False(other.Value.TryGetProperty("volumes", out var v) && Strings(v).Any(m => m.Split(':')[0] == clusterVolume), $"{other.Name} mounts the cluster credential");
        foreach (string volume in dataVolumes.Append(tokenFiles.Single().Split(':')[0]).Append(clusterVolume))
            Assert.True(Config.Value.GetProperty("volumes").TryGetProperty(volume, out _), $"volume {volume} is not declared");
    }

    [Fact]
    public void NodesCanPinMemoryAndOnlyNodeOnesDashboardIsPublishedOnLoopback()
    {
        foreach (var service in Nodes)
        {
            var s = service.Value;
            var memlock = s.GetProperty("ulimits").GetProperty("memlock");
            Assert.Equal(-1, memlock.GetProperty("soft").GetInt32());
            Assert.Equal(-1, memlock.GetProperty("hard").GetInt32());
            Assert.Equal("tcp", s.GetProperty("environment").GetProperty("UCX_TLS").GetString());
            Assert.Equal("eth0", s.GetProperty("environment").GetProperty("UCX_NET_DEVICES").GetString());
            Assert.Equal("none", s.GetProperty("environment").GetProperty("UCX_MEM_MMAP_HOOK_MODE").GetString());
            Assert.True(s.TryGetProperty("shm_size", out _), $"{service.Name} has Docker's 64 MiB /dev/shm, where its regions live");
            Assert.Equal("deploy/Dockerfile", s.GetProperty("build").GetProperty("dockerfile").GetString());
            bool published = s.TryGetProperty("ports", out var ports);
            if (service.Name == "node1") Assert.Equal(["127.0.0.1:7480:7480/tcp"], Strings(ports));
            else Assert.False(published, $"{service.Name} publishes ports");
        }
        var ipam = Assert.Single(Config.Value.GetProperty("networks").GetProperty("rdmakv").GetProperty("ipam").GetProperty("config").EnumerateArray());
        Assert.Equal("10.91.0.0/24", ipam.GetProperty("subnet").GetString());
        Assert.Equal("10.91.0.1", ipam.GetProperty("gateway").GetString());
        // Not the local cluster's bridge: both can run on one host.
        Assert.All(Topology.FromScript(), n => Assert.False(n.Ucx.StartsWith("10.91.0.", StringComparison.Ordinal), $"local-cluster.sh puts {n.Id} on the compose subnet"));

        // The RDMA settings are there to switch on, commented out.
        string text = File.ReadAllText(Repository.Compose);
        Assert.Contains("#   - /dev/infiniband/uverbs0", text);
        Assert.Contains("#   - IPC_LOCK", text);
    }

    [Fact]
    public void EtcdIsHealthyAndInitHasSeededTheMapBeforeAnyNodeStarts()
    {
        var etcd = Services.GetProperty("etcd");
        // The etcd of the tests and of local-cluster.sh (Debian's etcd-server), in etcd's own image.
        string image = etcd.GetProperty("image").GetString()!;
        var version = Tool.Run("/usr/bin/etcd", "--version").Succeeded().Output.Split('\n')[0]; // "etcd Version: 3.4.23"
        string minor = string.Join('.', version.Split(' ')[^1].Split('.')[..2]);
        Assert.StartsWith($"quay.io/coreos/etcd:v{minor}.", image);
        string[] command = Strings(etcd.GetProperty("command"));
        Assert.Equal(EtcdUrl, After(command, "--advertise-client-urls"));
        Assert.Equal("http://0.0.0.0:2379", After(command, "--listen-client-urls"));
        Assert.Equal("/var/lib/etcd", After(command, "--data-dir"));
        Assert.Contains($"etcd-data:/var/lib/etcd:rw", Strings(etcd.GetProperty("volumes")));
        Assert.False(etcd.TryGetProperty("ports", out _), "etcd is published; only the nodes and init need it");
        Assert.Contains("endpoint", Strings(etcd.GetProperty("healthcheck").GetProperty("test")));
        string etcdAddress = etcd.GetProperty("networks").GetProperty("rdmakv").GetProperty("ipv4_address").GetString()!;
        Assert.DoesNotContain(etcdAddress, Nodes.Select(n => n.Value.GetProperty("networks").GetProperty("rdmakv").GetProperty("ipv4_address").GetString()));

        var init = Services.GetProperty("init");
        Assert.Equal("service_healthy", init.GetProperty("depends_on").GetProperty("etcd").GetProperty("condition").GetString());
        Assert.Contains($"{Repository.ComposeClusterFile}:{ClusterPath}:ro", Strings(init.GetProperty("volumes")));
        Assert.Equal("no", init.GetProperty("restart").GetString());
        // Built with the nodes' image: init runs first, and rdmakv:local is in no registry.
        Assert.Equal("deploy/Dockerfile", init.GetProperty("build").GetProperty("dockerfile").GetString());
        Assert.Equal(Services.GetProperty("node1").GetProperty("image").GetString(), init.GetProperty("image").GetString());
        foreach (var node in Nodes)
        {
            var dependsOn = node.Value.GetProperty("depends_on");
            Assert.Equal("service_completed_successfully", dependsOn.GetProperty("init").GetProperty("condition").GetString());
            Assert.Equal("service_healthy", dependsOn.GetProperty("etcd").GetProperty("condition").GetString());
        }
        // The CLI the image ships takes what init passes.
        var help = Tool.Run(Tool.Dotnet, [build.Dll("rdmakv.dll"), "cluster", "init", "--help"], build.Output).Succeeded();
        Assert.Contains("--etcd", help.Output);
    }

    /// <summary>
    /// init's shell command, run with a stand-in for dotnet that records its arguments and answers
    /// as <c>rdmakv cluster init</c> does: a stored map and a map etcd kept from before both let the
    /// nodes start; anything else stops them.
    /// </summary>
    [Theory]
    [InlineData(0, "stored the cluster map from cluster.json in etcd at /rdmakv/map: epoch 1, 256 slots, 3 nodes", true)]
    [InlineData(2, "rdmakv: etcd already holds a cluster map at /rdmakv/map (epoch 7); it was left as it is.", true)]
    [InlineData(2, "rdmakv: /etc/rdmakv/cluster.json: the file is not valid JSON", false)]
    [InlineData(3, "rdmakv: etcd at http://etcd:2379 does not answer", false)]
    public void InitSucceedsWhenTheMapIsStoredOrWasKeptAndFailsOtherwise(int exitCode, string said, bool succeeds)
    {
        var init = Services.GetProperty("init");
        string[] entrypoint = Strings(init.GetProperty("entrypoint"));
        Assert.Equal(["/bin/sh", "-c"], entrypoint);
        // docker-compose config prints $ as $$, as it reads it; the container's shell gets one.
        string script = Assert.Single(Strings(init.GetProperty("command"))).Replace("$$", "$", StringComparison.Ordinal);
        string bin = Directory.CreateTempSubdirectory("rdmakv-init-").FullName;
        try
        {
            string fake = Path.Combine(bin, "dotnet");
            File.WriteAllText(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"$FAKE_ARGS\"\nprintf '%s\\n' \"$FAKE_SAID\" >&2\nexit \"$FAKE_CODE\"\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string args = Path.Combine(bin, "args");
            var ran = Tool.Run("/bin/sh", ["-c", script], environment: new Dictionary<string, string?>
            {
                ["PATH"] = $"{bin}:/usr/bin:/bin",
                ["FAKE_ARGS"] = args,
                ["FAKE_SAID"] = said,
                ["FAKE_CODE"] = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            Assert.Equal(["/app/rdmakv.dll", "cluster", "init", ClusterPath, "--etcd", EtcdUrl], File.ReadAllLines(args));
            Assert.Contains(said, ran.Output); // what init said is in the container's log
            Assert.True(succeeds == (ran.ExitCode == 0), ran.Describe());
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Fact]
    public void TheBenchServiceTargetsEveryNodeWithTheSharedTokenAndOptionsTheBenchmarkHas()
    {
        var bench = Services.GetProperty("bench");
        Assert.Equal(["bench"], Strings(bench.GetProperty("profiles")));
        string[] entrypoint = Strings(bench.GetProperty("entrypoint"));
        Assert.Equal(["dotnet", "/app/rdmakv.dll", "bench"], entrypoint[..3]);
        string[] args = [.. entrypoint[3..], .. Strings(bench.GetProperty("command"))];
        Assert.Equal("ucx://" + string.Join(',', Nodes.Select(n => $"{n.Name}:7400")), After(args, "--target"));

        string nodeToken = After(Strings(Services.GetProperty("node1").GetProperty("command")), "--client-token-file");
        Assert.Equal(nodeToken, bench.GetProperty("environment").GetProperty("RDMAKV_TOKEN_FILE").GetString());
        Assert.Contains(Strings(bench.GetProperty("volumes")), v => v.Split(':')[1] == Path.GetDirectoryName(nodeToken) && v.EndsWith(":ro", StringComparison.Ordinal));

        var help = Tool.Run(Tool.Dotnet, [build.Dll("rdmakv.dll"), "bench", "--help"], build.Output).Succeeded();
        foreach (string option in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
            Assert.Contains(option, help.Output);
    }
}
