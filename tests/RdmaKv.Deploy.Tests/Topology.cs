using RdmaKv.Core.Cluster;

namespace RdmaKv.Deploy.Tests;

/// <summary>The cluster the deployment describes, as deploy/local-cluster.sh states it (its <c>topology</c> and <c>cluster-file</c> commands).</summary>
static class Topology
{
    public static IReadOnlyList<ClusterNode> FromScript(bool loopback = false)
    {
        var printed = Tool.Run("bash", [Repository.LocalClusterScript, "topology", .. loopback ? new[] { "--loopback" } : []]).Succeeded();
        var nodes = new List<ClusterNode>();
        foreach (string line in printed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] words = line.Split(' ');
            Assert.True(words.Length == 3, $"'{line}' from local-cluster.sh topology is not ID UCX ADMIN");
            nodes.Add(new ClusterNode(words[0], words[1], words[2]));
        }
        Assert.Equal(3, nodes.Count);
        return nodes;
    }

    /// <param name="etcd">The file of a cluster with etcd (the default), or of one without (RDMAKV_ETCD=0).</param>
    public static ClusterMap ClusterFileOfScript(bool loopback = false, bool etcd = true)
    {
        var printed = Tool.Run("bash", [Repository.LocalClusterScript, "cluster-file", .. loopback ? new[] { "--loopback" } : []],
            environment: new Dictionary<string, string?> { ["RDMAKV_ETCD"] = etcd ? "1" : "0" }).Succeeded();
        return ClusterMap.Parse(printed.Output);
    }

    public static string Seeds(IEnumerable<ClusterNode> nodes) => "ucx://" + string.Join(',', nodes.Select(n => n.Ucx));
}
