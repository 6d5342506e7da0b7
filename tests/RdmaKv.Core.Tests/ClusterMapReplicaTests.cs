using RdmaKv.Core.Cluster;

namespace RdmaKv.Core.Tests;

public sealed class ClusterMapReplicaTests
{
    const string ThreeNodes = """ "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:2" }, { "id": "c", "ucx": "h:3" } ] """;

    [Fact]
    public void WithTwoReplicasEverySlotHasOneBackupOnAnotherNodeAndTheLoadIsEven()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 1, "slots": 12, "replicas": 2, {{ThreeNodes}} }""");

        Assert.Equal(2, map.Replicas);
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            var backups = map.BackupsOf(slot);
            Assert.Single(backups);
            Assert.NotEqual(map.Owners[slot], backups[0]);
            Assert.True(map.Holds(slot, backups[0]));
        }
        foreach (string node in new[] { "a", "b", "c" })
        {
            Assert.Equal(4, Enumerable.Range(0, 12).Count(s => map.BackupsOf(s).Contains(node)));
            Assert.Equal(4, map.BackedBy(node));
            Assert.Equal(4, map.LedBy(node));
        }
        Assert.Equal(0, map.BackedBy("z"));
        Assert.Equal(0, map.SlotsShortOfCopies);
    }

    [Fact]
    public void BackupsAndIncarnationsSurviveTheJsonRoundTrip()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 1, "slots": 6, "replicas": 3, {{ThreeNodes}} }""");
        var edit = map.Edit();
        edit.Incarnations["a"] = "run-1";
        var next = edit.Build();

        var again = ClusterMap.Parse(next.ToJson());

        Assert.Equal(2, again.Epoch);
        Assert.Equal(3, again.Replicas);
        for (int slot = 0; slot < 6; slot++) Assert.Equal(next.BackupsOf(slot), again.BackupsOf(slot));
        Assert.Equal("run-1", again.Incarnations["a"]);
    }

    [Fact]
    public void AMapWhoseEveryBackupIsGoneStaysWithoutBackupsThroughTheJson()
    {
        // Two nodes, R = 2, one dead: no slot has a backup. Read back, the map must not name the
        // dead node as every slot's backup again (it holds no copy of what is written meanwhile).
        var map = ClusterMap.Parse("""{ "epoch": 1, "slots": 4, "replicas": 2, "nodes": [{ "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:2" }] }""");
        var edit = map.Edit();
        for (int s = 0; s < map.SlotCount; s++)
        {
            edit.Owners[s] = "b";
            edit.Backups[s].Clear();
        }
        var alone = edit.Build();

        var again = ClusterMap.Parse(alone.ToJson());

        Assert.Equal(2, again.Replicas);
        Assert.All(Enumerable.Range(0, again.SlotCount), s => Assert.Empty(again.BackupsOf(s)));
        Assert.Equal(again.SlotCount, again.SlotsShortOfCopies);
    }

    [Fact]
    public void AMapWithoutReplicasWritesNoBackupsSoOldReadersStillParseIt()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 1, "slots": 4, {{ThreeNodes}} }""");

        Assert.Equal(1, map.Replicas);
        Assert.Empty(map.BackupsOf(0));
        Assert.DoesNotContain("backups", map.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("replicas", map.ToJson(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(""" "replicas": 4 """, "replicas 4")]
    [InlineData(""" "replicas": 0 """, "replicas 0")]
    [InlineData(""" "replicas": 2, "backups": [["a"], ["b"]] """, "both the owner and a backup")]
    [InlineData(""" "replicas": 3, "backups": [["b", "b"], []] """, "name a node twice")]
    [InlineData(""" "replicas": 2, "backups": [["z"], []] """, "node 'z'")]
    [InlineData(""" "replicas": 2, "backups": [["b", "c"], []] """, "allows 1")]
    [InlineData(""" "replicas": 2, "backups": [["b"]] """, "backups lists 1 slots")]
    public void ABadReplicaSetUpIsRefusedWithTheReason(string fields, string reason)
    {
        var refused = Assert.Throws<InvalidDataException>(() =>
            ClusterMap.Parse($$"""{ "epoch": 1, "slots": 2, "owners": ["a", "b"], {{fields}}, {{ThreeNodes}} }"""));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PromotingABackupMakesItTheOwnerAndNoLongerABackup()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 5, "slots": 3, "replicas": 2, {{ThreeNodes}} }""");
        string backup = map.BackupsOf(0)[0];

        var promoted = map.WithOwner(0, backup);

        Assert.Equal(6, promoted.Epoch);
        Assert.Equal(backup, promoted.Owners[0]);
        Assert.Empty(promoted.BackupsOf(0));
    }

    [Fact]
    public void AHandOverSwapsThePrimaryWithItsBackupAndKeepsEveryCopy()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 5, "slots": 3, "replicas": 3, {{ThreeNodes}} }""");
        string primary = map.Owners[1], first = map.BackupsOf(1)[0], second = map.BackupsOf(1)[1];

        var handed = map.HandedOver(1, second);

        Assert.Equal(6, handed.Epoch);
        Assert.Equal(second, handed.Owners[1]);
        Assert.Equal([first, primary], handed.BackupsOf(1));
        Assert.Equal(map.Owners[0], handed.Owners[0]);
        Assert.Equal(map.BackupsOf(2), handed.BackupsOf(2));
        Assert.Throws<ArgumentException>(() => map.HandedOver(1, primary));
    }

    [Fact]
    public void AnEditThatBreaksARuleIsRefusedAndTheMapIsUnchanged()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 1, "slots": 3, "replicas": 2, {{ThreeNodes}} }""");
        var edit = map.Edit();
        edit.Backups[1].Add(map.Owners[1]);

        Assert.Throws<InvalidDataException>(edit.Build);
        Assert.DoesNotContain(map.Owners[1], map.BackupsOf(1));

        var other = map.Edit();
        other.AddBackup(2, map.Owners[2]); // a node never backs the slot it leads
        Assert.DoesNotContain(map.Owners[2], other.Build().BackupsOf(2));
    }
}
