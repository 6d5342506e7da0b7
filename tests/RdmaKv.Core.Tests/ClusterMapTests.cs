using RdmaKv.Core.Cluster;

namespace RdmaKv.Core.Tests;

public sealed class ClusterMapTests
{
    const string Nodes = """ "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:2" } ] """;

    [Fact]
    public void AMapSavedBeforeSlotsWereNamedPartitionsStillLoadsAndIsWrittenBackWithSlots()
    {
        var old = ClusterMap.Parse($$"""{ "epoch": 3, "partitions": 6, {{Nodes}} }""");

        Assert.Equal(6, old.SlotCount);
        string json = old.ToJson();
        Assert.Contains("\"slots\":6", json, StringComparison.Ordinal);
        Assert.DoesNotContain("partitions", json, StringComparison.Ordinal);
        Assert.Equal(old.Owners, ClusterMap.Parse(json).Owners);
    }

    [Fact]
    public void AMapThatGivesBothSlotsAndPartitionsIsRefusedWithTheReason()
    {
        var both = Assert.Throws<InvalidDataException>(() => ClusterMap.Parse($$"""{ "epoch": 1, "slots": 4, "partitions": 4, {{Nodes}} }"""));

        Assert.Contains("keep slots", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutACountTheMapHas256SlotsSpreadEvenlyOverTheNodes()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 1, {{Nodes}} }""");

        Assert.Equal(256, map.SlotCount);
        Assert.Equal(128, map.Owners.Count(o => o == "a"));
        Assert.InRange(map.SlotOf("some key"u8), 0, 255);
    }
}
