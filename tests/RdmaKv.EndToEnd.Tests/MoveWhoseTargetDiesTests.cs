using System.Text;
using RdmaKv.Client;
using RdmaKv.Core.Cluster;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A slot move whose target node process is SIGKILLed while it imports the copy: the move
/// fails and says so, the owner goes on serving the slot (a write may time out while the
/// move runs into the dead target, none once the move has failed) and loses no acknowledged
/// write, and once the target is back a retried move succeeds and the new owner has every key.
/// </summary>
public sealed class MoveWhoseTargetDiesTests(ITestOutputHelper output) : IDisposable
{
    const int Moved = 3;
    const int Source = 0, Target = 1, Via = 2;
    static readonly TimeSpan MovePatience = TimeSpan.FromMinutes(3);
    readonly ProcessCluster _cluster = new(3, ["node1", "node1", "node1", "node1", "node1", "node1", "node1", "node1", "node2", "node2", "node3", "node3"]);

    [Fact]
    public void TheOwnerKeepsServingAndLosesNoAcknowledgedWriteAndARetriedMoveSucceedsOnceTheTargetIsBack()
    {
        try
        {
            KillTheTargetDuringAMoveThenRetry();
        }
        catch
        {
            output.WriteLine(_cluster.Describe());
            throw;
        }
    }

    void KillTheTargetDuringAMoveThenRetry()
    {
        var map = _cluster.Map;
        using var client = _cluster.Connect(_cluster.Seeds(Source, Via), TimeSpan.FromSeconds(30));
        // About 32 MiB in the moved slot: the copy takes seconds, the kill comes within them.
        var bulk = Enumerable.Range(0, 1_000_000).Select(i => Encoding.UTF8.GetBytes($"bulk-{i}")).Where(k => map.SlotOf(k) == Moved).Take(4000).ToList();
        foreach (var chunk in bulk.Chunk(100)) client.PutMany([.. chunk.Select(k => (k, Bulk(k)))]);

        // The writer's keys are in the moved slot and in others node2 does not own, so that
        // every write has a live owner throughout; it reads each one back as soon as it is acknowledged.
        var keys = Enumerable.Range(0, 1_000_000).Select(i => Encoding.UTF8.GetBytes($"acked-{i}"))
            .Where(k => map.OwnerOf(k).Id != "node2").Take(400).ToList();
        Assert.True(keys.Count(k => map.SlotOf(k) == Moved) >= 30);
        var acknowledged = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int writes = 0, unknown = 0;
        bool moveFailed = false;
        var writer = Racer.Start("writer", () =>
        {
            for (bool last = false; !last;)
            {
                last = Volatile.Read(ref moveFailed);
                foreach (var k in keys)
                {
                    byte[] value = Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetString(k)}-write-{writes++}");
                    try
                    {
                        client.Put(k, value);
                    }
                    catch (KvConnectionException) when (!last)
                    {
                        // While the move runs into the dead target a write may time out: its outcome
                        // is unknown. The round after the move has failed must see none, and it
                        // writes every key again, so the check at the end is of acknowledged values only.
                        unknown++;
                        continue;
                    }
                    lock (acknowledged) acknowledged[Encoding.UTF8.GetString(k)] = value;
                    Assert.Equal(value, client.Get(k));
                }
            }
        });

        CliResult failed;
        using (var move = _cluster.StartAdmin(Via, "cluster", "move", $"{Moved}", "node2"))
        {
            try
            {
                _cluster.Server(Target).WaitForOutput($"Slot {Moved} is moving in from node node1");
                _cluster.Kill(Target);
                failed = move.Finish(MovePatience);
            }
            finally
            {
                Volatile.Write(ref moveFailed, true);
            }
        }
        writer.Join(MovePatience);
        output.WriteLine($"{writes} writes raced the move ({unknown} timed out while it ran); it answered: {failed}");
        if (unknown > 0) output.WriteLine(_cluster.Describe());
        Assert.True(failed.ExitCode != 0, $"the move did not fail; the copy ended before the kill: {failed}");
        Assert.Contains("/api/cluster/move answered", failed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"the move of slot {Moved} stopped", failed.Stderr, StringComparison.Ordinal);
        Assert.Contains("node node2", failed.Stderr, StringComparison.Ordinal);

        // node1 still owns the slot at epoch 1, and has every acknowledged write.
        Assert.Contains("epoch 1,", _cluster.Admin(Source, "cluster", "show").Text, StringComparison.Ordinal);
        Assert.Equal(1, client.ClusterEpoch);
        AssertHoldsEveryAcknowledgedWrite(client, acknowledged);
        var sample = bulk.Where((_, i) => i % 50 == 0).ToList();
        Assert.All(client.MultiGet(sample), (v, i) => Assert.Equal(Bulk(sample[i]), v));
        foreach (var k in keys.Take(50)) client.Put(k, acknowledged[Encoding.UTF8.GetString(k)] = Encoding.UTF8.GetBytes("after the failed move"));

        _cluster.Restart(Target);
        using (var retry = _cluster.StartAdmin(Via, "cluster", "move", $"{Moved}", "node2"))
        {
            var moved = retry.Finish(MovePatience);
            output.WriteLine($"the retried move answered: {moved}");
            Assert.True(moved.ExitCode == 0, moved.ToString());
            Assert.Contains("\"epoch\":2", moved.Text, StringComparison.Ordinal);
        }
        Assert.Equal("node2", ClusterMap.Load(Path.Combine(_cluster.DataDirectory(Source), "cluster-map.json")).Owners[Moved]);
        using var fresh = _cluster.Connect(_cluster.Seeds(Target), TimeSpan.FromSeconds(30));
        AssertHoldsEveryAcknowledgedWrite(fresh, acknowledged);
        Assert.All(fresh.MultiGet(bulk), (v, i) => Assert.Equal(Bulk(bulk[i]), v));
        AssertHoldsEveryAcknowledgedWrite(client, acknowledged);
        Assert.Equal(2, client.ClusterEpoch);
    }

    static void AssertHoldsEveryAcknowledgedWrite(KvClient client, Dictionary<string, byte[]> acknowledged)
    {
        foreach (var (key, value) in acknowledged)
            Assert.True(value.AsSpan().SequenceEqual(client.Get(key)), $"{key}: the last acknowledged write ({Encoding.UTF8.GetString(value)}) is lost");
    }

    static byte[] Bulk(byte[] key)
    {
        byte[] value = new byte[8 << 10];
        key.CopyTo(value, 0);
        return value;
    }

    public void Dispose() => _cluster.Dispose();
}
