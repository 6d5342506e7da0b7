using RdmaKv.Core.Cluster;

namespace RdmaKv.Core.Tests;

public sealed class FailoverTests
{
    static ClusterMap Map(int replicas = 2, int slots = 6)
    {
        var map = ClusterMap.Parse($$"""
            { "epoch": 7, "slots": {{slots}}, "replicas": {{replicas}},
              "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:2" }, { "id": "c", "ucx": "h:3" } ] }
            """);
        var edit = map.Edit();
        foreach (string id in new[] { "a", "b", "c" }) edit.Incarnations[id] = id + "1";
        return edit.Build();
    }

    static Dictionary<string, string> Live(params string[] runs) => runs.ToDictionary(r => r[..1], r => r, StringComparer.Ordinal);

    [Fact]
    public void WithEveryNodeLiveNothingChanges()
    {
        var plan = Failover.Plan(Map(), Live("a1", "b1", "c1"));

        Assert.Null(plan.Next);
        Assert.Empty(plan.Fences);
        Assert.Empty(Failover.Rereplicate(Map(), Live("a1", "b1", "c1")));
    }

    [Fact]
    public void ADeadPrimarysSlotsGoToTheirBackupsWhichAreFencedAgainstItFirst()
    {
        var map = Map();
        var led = Enumerable.Range(0, map.SlotCount).Where(s => map.Owners[s] == "a").ToList();

        var plan = Failover.Plan(map, Live("b1", "c1"));

        var next = plan.Next!;
        Assert.Equal(map.Epoch + 1, next.Epoch);
        foreach (int slot in led)
        {
            Assert.Equal(map.BackupsOf(slot)[0], next.Owners[slot]);
            Assert.Contains((map.BackupsOf(slot)[0], "a"), plan.Fences);
        }
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            Assert.DoesNotContain("a", next.BackupsOf(slot));
            Assert.NotEqual("a", next.Owners[slot]);
        }
        Assert.Empty(plan.Unavailable);
    }

    [Fact]
    public void ARestartedPrimaryIsFailedOverWithoutAFenceAndItsNewRunIsRecorded()
    {
        var map = Map();

        var plan = Failover.Plan(map, Live("a2", "b1", "c1"));

        Assert.Empty(plan.Fences); // its old run is over: the new one registered
        Assert.Equal("a2", plan.Next!.Incarnations["a"]);
        Assert.DoesNotContain("a", plan.Next.Owners);
    }

    [Fact]
    public void SlotsWhoseEveryCopyDiedAreReportedAndKeptNotServedEmpty()
    {
        var map = Map();
        var shared = Enumerable.Range(0, map.SlotCount)
            .Where(s => map.Holds(s, "a") && map.Holds(s, "b")).ToList();
        Assert.NotEmpty(shared);

        var plan = Failover.Plan(map, Live("c1"));

        Assert.Equal(shared, plan.Unavailable);
        foreach (int slot in shared) Assert.Equal(map.Owners[slot], plan.Next!.Owners[slot]);
    }

    [Fact]
    public void AfterAFailoverTheMissingCopiesGoToTheLeastLoadedLiveNodes()
    {
        var failed = Failover.Plan(Map(), Live("b1", "c1")).Next!;

        var joins = Failover.Rereplicate(failed, Live("b1", "c1"));

        var added = joins.SelectMany(j => j.Slots.Select(s => (s, j.Primary, j.Target))).ToList();
        Assert.Equal(Enumerable.Range(0, failed.SlotCount).Count(s => failed.BackupsOf(s).Count == 0), added.Count);
        foreach (var (slot, primary, target) in added)
        {
            Assert.Equal(failed.Owners[slot], primary);
            Assert.NotEqual(primary, target);
        }
    }

    [Fact]
    public void ANodeThatNeverJoinedIsWaitedForNotFailedOverAndJoinsWhenItStarts()
    {
        var fresh = ClusterMap.Parse("""
            { "epoch": 1, "slots": 6, "replicas": 2,
              "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:2" }, { "id": "c", "ucx": "h:3" } ] }
            """);

        var first = Failover.Plan(fresh, Live("a1")).Next!;

        Assert.Equal(fresh.Owners, first.Owners);
        Assert.Equal("a1", first.Incarnations["a"]);
        Assert.False(first.Incarnations.ContainsKey("b"));
        var all = Failover.Plan(first, Live("a1", "b1", "c1")).Next!;
        Assert.Equal(fresh.Owners, all.Owners);
        Assert.Equal(3, all.Incarnations.Count);
    }

    [Fact]
    public void ANodeThatComesBackIsGivenCopiesAgain()
    {
        var failed = Failover.Plan(Map(), Live("b1", "c1")).Next!;
        var back = Failover.Plan(failed, Live("a2", "b1", "c1")).Next!;

        var joins = Failover.Rereplicate(back, Live("a2", "b1", "c1"));

        Assert.Contains(joins, j => j.Target == "a");
    }
}
