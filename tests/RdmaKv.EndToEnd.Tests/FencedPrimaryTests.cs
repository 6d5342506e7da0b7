using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RdmaKv.Core.Cluster;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A primary whose write waits on a backup that stopped answering (SIGSTOP: its connections stay
/// open, so the write waits the whole --replication-timeout under its partition lock), and which
/// then loses etcd, must retire its regions as soon as it fences, not when the write gives up:
/// until they retire, one-sided readers take them as current, also after its lease ran out and a
/// backup could have taken the slot over. Its reader is a local client, which reads the
/// regions as an RDMA NIC does: with no word from the node.
/// </summary>
public sealed partial class FencedPrimaryTests(ITestOutputHelper output)
{
    const int SigStop = 19;
    const int SigCont = 18;

    [Fact]
    public void APrimaryWhoseWriteWaitsOnAStalledBackupRetiresItsRegionsAsSoonAsItFences()
    {
        // Far longer than a fence takes, so a retire that waits for the write shows.
        using var cluster = new EtcdCluster(nodes: 2, replicas: 2, leaseTtl: null, "--replication-timeout", "20000");
        var map = cluster.WaitUntilServing();
        string[] keys = [.. Enumerable.Range(0, 10_000).Select(i => $"fenced-{i}")
            .Where(k => map.Owners[ClusterMap.SlotOf(Encoding.UTF8.GetBytes(k), map.SlotCount)] == "node1").Take(2)];
        // Over UCX on TCP the node serves reads itself and refuses them once fenced; a local
        // client reads the mapped regions with no word from the node, as an RDMA NIC would.
        using var reader = cluster.Connect(cluster.LocalSeed(0));
        reader.Put(keys[0], "before");
        Assert.Equal("before", Text(reader.Get(keys[0])));

        using var writer = cluster.Connect(cluster.Seeds(0), TimeSpan.FromSeconds(60));
        cluster.Server(1).Signal(SigStop);
        using var written = new ManualResetEventSlim();
        var write = new Thread(() =>
        {
            try
            {
                writer.Put(keys[1], "waits");
            }
            catch (Exception e) when (e is RdmaKv.Client.KvException or RdmaKv.Client.KvConnectionException)
            {
                // node1 fenced meanwhile: its outcome does not matter here
            }
            written.Set();
        })
        { IsBackground = true };
        try
        {
            write.Start();
            Assert.False(written.Wait(TimeSpan.FromSeconds(1)), "the write returned although its backup was stopped: nothing waits under a partition lock");

            cluster.Etcd.Kill();
            cluster.Server(0).WaitForOutput("stops serving");
            var fenced = Stopwatch.StartNew();
            long? failedAfterMs = null;
            while (fenced.Elapsed < TimeSpan.FromSeconds(10) && failedAfterMs is null)
            {
                long started = fenced.ElapsedMilliseconds;
                try
                {
                    Assert.Equal("before", Text(reader.Get(keys[0])));
                }
                catch (Exception e) when (e is RdmaKv.Client.KvException or RdmaKv.Client.KvConnectionException)
                {
                    failedAfterMs = started;
                }
            }
            cluster.Server(0).WaitForOutput("ms to retire its regions");
            var retired = RetireLine().Match(cluster.Server(0).Output);
            output.WriteLine($"fenced; one-sided reads refused after {failedAfterMs} ms; node1: {retired.Value}");
            Assert.True(failedAfterMs is not null, $"one-sided reads of node1 still succeeded 10 s after it stopped serving\n{cluster.Describe()}");
            Assert.True(failedAfterMs < 5_000, $"one-sided reads of node1 succeeded for {failedAfterMs} ms after it stopped serving: its regions waited for the write\n{cluster.Describe()}");
            Assert.True(int.Parse(retired.Groups[1].Value) < 5_000, $"node1 took {retired.Value} (the write waits 20 s)");
        }
        finally
        {
            cluster.Server(1).Signal(SigCont);
        }
        // The client must be idle before it is disposed.
        Assert.True(written.Wait(TimeSpan.FromSeconds(60)), "the waiting write never ended");
    }

    [GeneratedRegex(@"\((\d+) ms to retire its regions\)")]
    private static partial Regex RetireLine();

    static string? Text(byte[]? value) => value is null ? null : Encoding.UTF8.GetString(value);
}
