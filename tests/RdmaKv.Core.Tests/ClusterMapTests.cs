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

    [Theory]
    [InlineData("javascript:alert(document.cookie)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://h/")]
    public void AnAdminUrlThatIsNotHttpOrHttpsIsRefusedAtParse(string admin)
    {
        var refused = Assert.Throws<InvalidDataException>(() => ClusterMap.Parse($$"""{ "epoch": 1, "nodes": [ { "id": "a", "ucx": "h:1", "admin": "{{admin}}" } ] }"""));

        Assert.Contains("http or https", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HttpAndHttpsAdminUrlsParse()
    {
        var map = ClusterMap.Parse("""{ "epoch": 1, "nodes": [ { "id": "a", "ucx": "h:1", "admin": "http://h:7480" }, { "id": "b", "ucx": "h:2", "admin": "https://h:7481" } ] }""");

        Assert.Equal("https://h:7481", map.Node("b")!.Admin);
    }

    [Fact]
    public void ASuccessorMovesSlotsOnlyAndIsNotAbsurdlyFarAhead()
    {
        var map = ClusterMap.Parse($$"""{ "epoch": 5, "slots": 4, {{Nodes}} }""");

        Assert.Null(map.SuccessorProblem(map.WithOwner(0, "b")));
        Assert.Contains("not newer", map.SuccessorProblem(map), StringComparison.Ordinal);
        Assert.Contains("ahead", map.SuccessorProblem(ClusterMap.Parse($$"""{ "epoch": 9000000000000000000, "slots": 4, {{Nodes}} }""")), StringComparison.Ordinal);
        Assert.Null(map.SuccessorProblem(ClusterMap.Parse($$"""{ "epoch": {{5 + ClusterMap.MaxEpochStep}}, "slots": 4, {{Nodes}} }""")));
        Assert.Contains("slots", map.SuccessorProblem(ClusterMap.Parse($$"""{ "epoch": 6, "slots": 8, {{Nodes}} }""")), StringComparison.Ordinal);
        Assert.Contains("'evil'", map.SuccessorProblem(ClusterMap.Parse("""{ "epoch": 6, "slots": 4, "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "evil", "ucx": "h:9" } ] }""")), StringComparison.Ordinal);
        Assert.Contains("lists 1 nodes", map.SuccessorProblem(ClusterMap.Parse("""{ "epoch": 6, "slots": 4, "nodes": [ { "id": "a", "ucx": "h:1" } ] }""")), StringComparison.Ordinal);
        Assert.Contains("ucx 'h:9'", map.SuccessorProblem(ClusterMap.Parse("""{ "epoch": 6, "slots": 4, "nodes": [ { "id": "a", "ucx": "h:1" }, { "id": "b", "ucx": "h:9" } ] }""")), StringComparison.Ordinal);
    }
}
