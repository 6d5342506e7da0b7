using System.Text;
using RdmaKv.Core.Cluster;
using Xunit.Abstractions;

namespace RdmaKv.Core.Tests;

/// <summary>
/// The size of the map etcd holds for a 100-node cluster (docs/scale.md quotes the printed figures).
/// One etcd key is one request: etcd refuses a put larger than its --max-request-bytes (1.5 MiB by default).
/// </summary>
public sealed class ClusterMapSizeTests(ITestOutputHelper output)
{
    const int EtcdMaxRequestBytes = 1536 * 1024;

    [Theory]
    [InlineData(256, 2)]
    [InlineData(256, 3)]
    [InlineData(4096, 2)]
    [InlineData(4096, 3)]
    public void AHundredNodeMapWithIncarnationsFitsInOneEtcdRequest(int slots, int replicas)
    {
        var map = HundredNodes(slots, replicas);
        int bytes = Encoding.UTF8.GetByteCount(map.ToJson());
        output.WriteLine($"100 nodes, {slots} slots, R={replicas}: {bytes} bytes ({bytes / 1024.0:F1} KiB)");

        Assert.Equal(replicas - 1, map.BackupsOf(slots - 1).Count);
        Assert.Equal(100, map.Incarnations.Count);
        Assert.InRange(bytes, 1, EtcdMaxRequestBytes);
    }

    static ClusterMap HundredNodes(int slots, int replicas)
    {
        var nodes = string.Join(", ", Enumerable.Range(0, 100).Select(i =>
            $$"""{ "id": "node-{{i:D3}}", "ucx": "10.0.{{i / 250}}.{{i % 250 + 1}}:7400", "admin": "https://10.0.{{i / 250}}.{{i % 250 + 1}}:7480" }"""));
        var map = ClusterMap.Parse($$"""{ "epoch": 1, "slots": {{slots}}, "replicas": {{replicas}}, "nodes": [ {{nodes}} ] }""");
        var edit = map.Edit();
        for (int i = 0; i < 100; i++) edit.Incarnations[$"node-{i:D3}"] = Guid.NewGuid().ToString("N");
        return ClusterMap.Parse(edit.Build().ToJson());
    }
}
