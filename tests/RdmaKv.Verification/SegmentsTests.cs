namespace RdmaKv.Verification;

public sealed class SegmentsTests
{
    static Operation Op(int id, OperationKind kind, string? value, long invoke, long complete) =>
        new(id, id % 3, kind, "k", value, invoke, complete);

    static IReadOnlyDictionary<string, string?> State(string? value) => new Dictionary<string, string?> { ["k"] = value };

    [Fact]
    public void AWriteLostInACrashIsAllowedWhenEachStretchIsARegister()
    {
        var history = new History([
            Op(1, OperationKind.Put, "a", 0, 10),
            Op(2, OperationKind.Put, "b", 20, 30),
            Op(3, OperationKind.Get, "b", 40, 50),
            // crash at 60: "b" is lost; the read-back at 100 finds "a"
            Op(4, OperationKind.Get, "a", 100, 110),
            Op(5, OperationKind.Get, "a", 120, 130),
        ]);
        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(history).Verdict); // as a whole it is not
        var result = Segments.Check(history, [60], [(100, State("a"))], TimeSpan.FromSeconds(10));
        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void AStaleReadBetweenCrashesIsStillCaught()
    {
        var history = new History([
            Op(1, OperationKind.Put, "a", 0, 10),
            Op(2, OperationKind.Put, "b", 20, 30),
            Op(3, OperationKind.Get, "a", 40, 50), // stale: "b" was acknowledged before it began
            Op(4, OperationKind.Get, "b", 100, 110),
        ]);
        var result = Segments.Check(history, [60], [(100, State("b"))], TimeSpan.FromSeconds(10));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Contains("the start", result.Explanation);
    }

    [Fact]
    public void AfterARestartAReadThatGoesBackBeforeTheReadBackIsCaught()
    {
        var history = new History([
            Op(1, OperationKind.Put, "a", 0, 10),
            Op(2, OperationKind.Put, "b", 20, 30),
            // crash at 60; the read-back at 100 finds "b", then a client reads "a"
            Op(3, OperationKind.Get, "b", 100, 110),
            Op(4, OperationKind.Get, "a", 120, 130),
        ]);
        var result = Segments.Check(history, [60], [(100, State("b"))], TimeSpan.FromSeconds(10));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Contains("read-back", result.Explanation);
    }

    [Fact]
    public void AStretchThatStartsWithoutAReadBackIsNotJudged()
    {
        var history = new History([
            Op(1, OperationKind.Put, "a", 0, 10),
            // crash at 60, clients race the restart: what they see is not judged until the next read-back
            Op(2, OperationKind.Get, null, 70, 80),
            Op(3, OperationKind.Get, "a", 90, 95),
        ]);
        Assert.Equal(Verdict.Linearizable, Segments.Check(history, [60], [], TimeSpan.FromSeconds(10)).Verdict);
    }
}
