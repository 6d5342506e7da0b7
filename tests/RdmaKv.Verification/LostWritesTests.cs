namespace RdmaKv.Verification;

/// <summary>Counting acknowledged writes that a key's final value contradicts.</summary>
public sealed class LostWritesTests
{
    static IReadOnlyList<Operation> Lost(HistoryBuilder h, params (string Key, string? Value)[] final) =>
        LostWrites.Find(h.Build(), final.ToDictionary(f => f.Key, f => f.Value));

    [Fact]
    public void TheLastAcknowledgedWriteAsFinalValueLosesNothing() =>
        Assert.Empty(Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1).Put(1, "k", "b", 2, 3), ("k", "b")));

    [Fact]
    public void AnOlderFinalValueLosesTheWritesAfterIt()
    {
        var lost = Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1).Put(1, "k", "b", 2, 3).Put(1, "k", "c", 4, 5), ("k", "a"));
        Assert.Equal(["b", "c"], lost.Select(o => o.Value));
    }

    [Fact]
    public void AConcurrentOrUnknownWriteMayExplainTheFinalValue()
    {
        Assert.Empty(Lost(new HistoryBuilder().Put(1, "k", "a", 0, 10).Put(2, "k", "b", 2, 3), ("k", "a")));
        Assert.Empty(Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1).UnknownPut(2, "k", "b", 2), ("k", "b")));
    }

    [Fact]
    public void AbsentLosesEveryPutThatNoLaterDeleteExplains()
    {
        Assert.Single(Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1), ("k", null)));
        Assert.Empty(Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1).Delete(1, "k", 2, 3), ("k", null)));
        Assert.Equal(2, Lost(new HistoryBuilder().Put(1, "k", "a", 0, 1).Delete(1, "k", 2, 3).Put(2, "k", "c", 4, 5), ("k", "a")).Count);
    }
}
