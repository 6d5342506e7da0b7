using System.Net;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Three nodes in this process, each with its UCX listener on a free loopback port, sharing a
/// cluster file of 64 slots (with <c>replicas</c> copies of each) and a client token; clients
/// connect through seeds and route by the map.
/// </summary>
sealed class InProcessCluster : IDisposable
{
    readonly List<(TestNode Node, UcxNodeListener Listener)> _nodes = [];

    public InProcessCluster(int replicas = 1, TimeSpan? replicationTimeout = null)
    {
        int[] ports = [.. Enumerable.Range(0, 3).Select(_ => ProcessOutput.FreeLoopbackPort())];
        string file = Path.Combine(Directory, "cluster.json");
        File.WriteAllText(file, $$"""
            { "epoch": 1, "slots": 64, "replicas": {{replicas}}, "nodes": [
              { "id": "node1", "ucx": "127.0.0.1:{{ports[0]}}" },
              { "id": "node2", "ucx": "127.0.0.1:{{ports[1]}}" },
              { "id": "node3", "ucx": "127.0.0.1:{{ports[2]}}" } ] }
            """);
        Map = ClusterMap.Load(file);
        string tokenFile = Path.Combine(Directory, "client-token");
        Token = ClientTokenFile.LoadOrCreate(tokenFile, out _);
        try
        {
            for (int i = 0; i < 3; i++)
            {
                string id = $"node{i + 1}";
                var node = new TestNode(o => o with
                {
                    ClusterFile = file,
                    NodeId = id,
                    ClientTokenFile = tokenFile,
                    ClusterTokenFile = ClusterTokenFile,
                    Partitions = 2,
                    MemoryBytes = 64L << 20,
                    ReplicationTimeout = replicationTimeout ?? o.ReplicationTimeout
                });
                var listener = node.Host.AddRemote(new IPEndPoint(IPAddress.Loopback, ports[i]));
                _nodes.Add((node, listener));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; } = TestNode.NewDataDirectory();

    /// <summary>The map every node started with (epoch 1).</summary>
    public ClusterMap Map { get; }

    public string Token { get; }

    /// <summary>The cluster credential's file, shared by the three nodes (each makes or reads it at start).</summary>
    public string ClusterTokenFile => Path.Combine(Directory, "cluster-token");

    public string ClusterToken => File.ReadAllText(ClusterTokenFile).Trim();

    public IReadOnlyList<(TestNode Node, UcxNodeListener Listener)> Nodes => _nodes;

    public string Seeds(params int[] nodes) => "ucx://" + string.Join(",", nodes.Select(i => Map.Nodes[i].Ucx));

    public KvClient Connect(string seeds) => KvClient.Connect(seeds, new KvClientOptions { Credential = Token, Timeout = TimeSpan.FromSeconds(2) });

    public int IndexOf(string nodeId) => _nodes.FindIndex(n => n.Node.Node.Options.NodeId == nodeId);

    /// <summary>Stops node <paramref name="index"/> (listener and node); Dispose skips it.</summary>
    public void Stop(int index)
    {
        var (node, listener) = _nodes[index];
        listener.Dispose();
        node.Dispose();
    }

    public void Dispose()
    {
        foreach (var (node, listener) in _nodes)
        {
            listener.Dispose();
            node.Dispose();
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
