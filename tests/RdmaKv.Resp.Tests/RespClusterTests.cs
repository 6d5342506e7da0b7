using System.Globalization;
using System.Net;
using System.Text;
using RdmaKv.Core.Cluster;
using RdmaKv.Server.Ucx;
using RdmaKv.Tests;
using static RdmaKv.Resp.Tests.RespTestClient;

namespace RdmaKv.Resp.Tests;

/// <summary>
/// Two nodes of a cluster in this process, on 127.0.0.1 and 127.0.0.2, each with its gateway on the
/// same port of its own address (the gateway redirects to the owner's host at its own port).
/// </summary>
public sealed class RespClusterTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("rdmakv-resp-cluster-").FullName;
    readonly List<RespTestNode> _nodes = [];
    readonly ClusterMap _map;
    readonly int _port = ProcessOutput.FreeLoopbackPort();

    public RespClusterTests()
    {
        string file = Path.Combine(_directory, "cluster.json");
        File.WriteAllText(file, $$"""
            { "epoch": 1, "slots": 64, "nodes": [
              { "id": "node1", "ucx": "127.0.0.1:{{ProcessOutput.FreeLoopbackPort()}}" },
              { "id": "node2", "ucx": "127.0.0.2:{{ProcessOutput.FreeLoopbackPort()}}" } ] }
            """);
        _map = ClusterMap.Load(file);
        string tokenFile = Path.Combine(_directory, ClientTokenFile.FileName);
        ClientTokenFile.LoadOrCreate(tokenFile, out _);
        try
        {
            for (int i = 1; i <= 2; i++)
            {
                string id = $"node{i}";
                _nodes.Add(new RespTestNode(
                    o => o with { ClusterFile = file, NodeId = id, ClientTokenFile = tokenFile, ClusterTokenFile = Path.Combine(_directory, "cluster-token"), Partitions = 2, MemoryBytes = 64L << 20 },
                    new IPEndPoint(IPAddress.Parse($"127.0.0.{i}"), _port)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    string KeyOf(string node, int skip = 0) =>
        Enumerable.Range(0, 10_000).Select(i => $"key{i}").Where(k => _map.OwnerOf(Encoding.UTF8.GetBytes(k)).Id == node).Skip(skip).First();

    int SlotOf(string key) => _map.SlotOf(Encoding.UTF8.GetBytes(key));

    [Fact]
    public void AKeyOfAnotherNodeIsMovedToItsOwnersHostWithRdmaKvsSlot()
    {
        string mine = KeyOf("node1"), theirs = KeyOf("node2");
        using var c = _nodes[0].Connect();
        Assert.Equal("OK", c.Call("SET", mine, "here"));
        string moved = $"MOVED {SlotOf(theirs)} 127.0.0.2:{_port}";
        Assert.Equal(moved, Assert.IsType<RespError>(c.Call("SET", theirs, "there")).Text);
        Assert.Equal(moved, Assert.IsType<RespError>(c.Call("GET", theirs)).Text);
        Assert.Equal(moved, Assert.IsType<RespError>(c.Call("INCR", theirs)).Text);
        Assert.Equal((long)SlotOf(theirs), c.Call("CLUSTER", "KEYSLOT", theirs));
        Assert.Equal("CROSSSLOT Keys in request don't hash to the same slot", Assert.IsType<RespError>(c.Call("MGET", mine, theirs)).Text);
        Assert.Contains("XxHash64 into 64 slots, not CRC16", Assert.IsType<RespError>(c.Call("CLUSTER", "SLOTS")).Text);
        Assert.Contains("XxHash64 into 64 slots, not CRC16", Assert.IsType<RespError>(c.Call("CLUSTER", "SHARDS")).Text);
        // Following the redirect reaches the owner, which serves the key.
        using var owner = new RespTestClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), _port));
        Assert.Equal("OK", owner.Call("AUTH", _nodes[1].Token));
        Assert.Equal("OK", owner.Call("SET", theirs, "there"));
        Assert.Equal("there", Text(owner.Call("GET", theirs)));
        Assert.Equal(1L, c.Call("DBSIZE"));
    }

    [Fact]
    public void RedisCliInClusterModeFollowsMovedToTheOwner()
    {
        string theirs = KeyOf("node2"), mine = KeyOf("node1");
        string Cli(params string[] arguments)
        {
            var (exit, output, errors) = RedisToolsTests.Run("redis-cli", _nodes[0].Token, ["-c", "-h", "127.0.0.1", "-p", _port.ToString(CultureInfo.InvariantCulture), .. arguments]);
            Assert.True(exit == 0, $"redis-cli exited {exit}: {output}{errors}");
            return output.TrimEnd('\n');
        }
        Assert.Equal("OK", Cli("SET", theirs, "via redirect"));
        Assert.Equal("via redirect", Cli("GET", theirs));
        Assert.Equal("OK", Cli("SET", mine, "local"));
        using var owner = _nodes[1].Node.Connect();
        Assert.Equal("via redirect", Encoding.UTF8.GetString(owner.Get(theirs)!));
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
