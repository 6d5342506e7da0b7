using System.Diagnostics;

namespace RdmaKv.Verification;

/// <summary>The checker on hand-made histories whose answer is known.</summary>
public sealed class LinearizabilityCheckerTests
{
    static CheckResult Check(HistoryBuilder h) => LinearizabilityChecker.Check(h.Build());

    static void AssertLinearizable(HistoryBuilder h)
    {
        var result = Check(h);
        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
    }

    static CheckResult AssertNotLinearizable(HistoryBuilder h)
    {
        var result = Check(h);
        Assert.True(result.Verdict == Verdict.NotLinearizable, result.Explanation);
        return result;
    }

    [Fact]
    public void ASequenceOfPutsDeletesAndReadsIsLinearizable() => AssertLinearizable(new HistoryBuilder()
        .Get(1, "k", null, 0, 1).Put(1, "k", "a", 2, 3).Get(2, "k", "a", 4, 5).Delete(2, "k", 6, 7).Get(1, "k", null, 8, 9).Put(2, "k", "b", 10, 11).Get(1, "k", "b", 12, 13));

    [Fact]
    public void OverlappingWritesMayTakeEffectInEitherOrder()
    {
        // b is invoked after a but both overlap: a read after both may see either, as long as readers agree afterwards.
        AssertLinearizable(new HistoryBuilder().Put(1, "k", "a", 0, 10).Put(2, "k", "b", 2, 8).Get(3, "k", "a", 11, 12).Get(3, "k", "a", 13, 14));
        AssertLinearizable(new HistoryBuilder().Put(1, "k", "a", 0, 10).Put(2, "k", "b", 2, 8).Get(3, "k", "b", 11, 12).Get(4, "k", "b", 13, 14));
        // A read overlapping a write may see the old or the new value; a later read then the new one.
        AssertLinearizable(new HistoryBuilder().Put(1, "k", "a", 0, 1).Put(2, "k", "b", 2, 10).Get(3, "k", "a", 3, 4).Get(4, "k", "b", 5, 6).Get(3, "k", "b", 11, 12));
    }

    [Fact]
    public void ADeleteOverlappingReadsMayBeSeenByLaterOnesOnly() => AssertLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).Delete(1, "k", 2, 10).Get(2, "k", "a", 3, 4).Get(3, "k", null, 5, 6).Get(2, "k", null, 7, 8).Put(3, "k", "c", 11, 12).Get(2, "k", "c", 13, 14));

    [Fact]
    public void AWriteOfUnknownOutcomeMayHaveHappened() => AssertLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).UnknownPut(2, "k", "b", 2).Get(3, "k", "a", 3, 4).Get(3, "k", "b", 50, 51).Get(1, "k", "b", 60, 61));

    [Fact]
    public void AWriteOfUnknownOutcomeMayNotHaveHappened() => AssertLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).UnknownPut(2, "k", "b", 2).UnknownDelete(2, "k", 3).Get(3, "k", "a", 30, 31).Get(1, "k", "a", 60, 61));

    [Fact]
    public void AWriteOfUnknownOutcomeMayTakeEffectLongAfterItWasInvoked() => AssertLinearizable(new HistoryBuilder()
        .UnknownPut(2, "k", "b", 0).Put(1, "k", "a", 10, 11).Get(3, "k", "a", 12, 13).Get(3, "k", "b", 20, 21));

    [Fact]
    public void AStaleReadIsCaught()
    {
        var result = AssertNotLinearizable(new HistoryBuilder().Put(1, "k", "a", 0, 1).Put(1, "k", "b", 2, 3).Get(2, "k", "a", 4, 5));
        Assert.Equal("k", result.Key);
        Assert.Contains("get k -> a", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAcknowledgedWriteFollowedByAReadOfAnOlderValueIsCaught() => AssertNotLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).Get(2, "k", "a", 2, 3).Put(1, "k", "b", 4, 5).Get(3, "k", "b", 6, 7).Get(2, "k", "a", 8, 9));

    [Fact]
    public void AReadOfAValueNeverWrittenIsCaught() => AssertNotLinearizable(new HistoryBuilder().Put(1, "k", "a", 0, 1).Get(2, "k", "zzz", 0, 5));

    [Fact]
    public void AReadThatGoesBackInTimeAcrossTwoClientsIsCaught() => AssertNotLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).Put(1, "k", "b", 2, 20).Get(2, "k", "b", 5, 6).Get(3, "k", "a", 7, 8));

    [Fact]
    public void AReadOfAbsentAfterAnAcknowledgedPutIsCaught() => AssertNotLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).Get(2, "k", null, 2, 3));

    [Fact]
    public void AWriteOfUnknownOutcomeCannotExplainAReadBeforeItsInvocation() => AssertNotLinearizable(new HistoryBuilder()
        .Get(2, "k", "a", 0, 1).UnknownPut(1, "k", "a", 2));

    [Fact]
    public void AWriteOfUnknownOutcomeCannotBeUndoneOnceSeen() => AssertNotLinearizable(new HistoryBuilder()
        .Put(1, "k", "a", 0, 1).UnknownPut(2, "k", "b", 2).Get(3, "k", "b", 3, 4).Get(3, "k", "a", 5, 6));

    [Fact]
    public void TheWitnessIsTheFewOperationsOfTheViolationInALongHistory()
    {
        var h = new HistoryBuilder();
        long t = 0;
        for (int i = 0; i < 300; i++)
        {
            h.Put(i % 4, "k", $"v{i}", t, t + 3).Get((i + 1) % 4, "k", $"v{i}", t + 4, t + 5).Get(9, "other", null, t, t + 2);
            t += 6;
        }
        h.Get(7, "k", "v100", t, t + 1); // stale: v299 was acknowledged long before
        var result = AssertNotLinearizable(h);
        Assert.Equal("k", result.Key);
        Assert.True(result.Witness.Count <= 4, result.Explanation);
        Assert.Contains(result.Witness, o => o.Kind == OperationKind.Get && o.Value == "v100" && o.Client == 7);
        Assert.All(result.Witness, o => Assert.Equal("k", o.Key));
    }

    [Fact]
    public void DeletesLongBeforeTheViolationAreLeftOutOfTheWitness()
    {
        var h = new HistoryBuilder();
        long t = 0;
        for (int i = 0; i < 50; i++, t += 6) h.Put(i % 3, "k", $"v{i}", t, t + 2).Delete((i + 1) % 3, "k", t + 3, t + 4).Get(4, "k", null, t + 5, t + 6);
        h.Put(1, "k", "last", t, t + 1).Get(2, "k", null, t + 10, t + 11); // the acknowledged put is gone
        var result = AssertNotLinearizable(h);
        Assert.True(result.Witness.Count <= 3, result.Explanation);
        Assert.Contains(result.Witness, o => o.Value == "last");
    }

    [Fact]
    public void KeysAreCheckedOneByOneAndTheFailingKeyIsNamed()
    {
        var h = new HistoryBuilder().Put(1, "a", "x", 0, 1).Put(1, "b", "x", 0, 1).Put(2, "b", "y", 2, 3).Get(1, "a", "x", 4, 5).Get(3, "b", "x", 6, 7);
        var result = AssertNotLinearizable(h);
        Assert.Equal("b", result.Key);
        Assert.All(result.Witness, o => Assert.Equal("b", o.Key));
    }

    [Fact]
    public void ManyKeysOfHardConcurrencyAreDecidedBecauseEachIsSearchedAlone()
    {
        // Ten fully concurrent puts per key: 2^10 configurations a key, but 2^400 for the keys together.
        var h = new HistoryBuilder();
        for (int k = 0; k < 40; k++)
        {
            for (int i = 0; i < 10; i++) h.Put(i, $"k{k}", $"v{k}-{i}", 0, 100);
            h.Get(11, $"k{k}", $"v{k}-{k % 10}", 101, 102);
        }
        var result = LinearizabilityChecker.Check(h.Build(), maxSteps: 5_000_000);
        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
    }

    [Fact]
    public void APathologicalHistoryEndsUndecidedWithinItsBudget()
    {
        // 60 fully concurrent puts, then a read of a value none wrote: refuting it means trying
        // every order the memo cannot merge (2^60 sets of linearized puts).
        var h = new HistoryBuilder();
        for (int i = 0; i < 60; i++) h.Put(i, "k", $"v{i}", 0, 1000);
        h.Get(99, "k", "never", 1001, 1002);
        var clock = Stopwatch.StartNew();
        var result = LinearizabilityChecker.Check(h.Build(), maxSteps: 100_000_000, maxTime: TimeSpan.FromSeconds(1));
        Assert.Equal(Verdict.Undecided, result.Verdict);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");

        var byStep = LinearizabilityChecker.Check(h.Build(), maxSteps: 50_000, maxTime: TimeSpan.FromMinutes(5));
        Assert.Equal(Verdict.Undecided, byStep.Verdict);
        Assert.True(byStep.Steps <= 50_000, $"{byStep.Steps} steps");
    }

    [Fact]
    public void AHistorySurvivesASaveAndLoad()
    {
        var history = new HistoryBuilder().Put(1, "k", "a", 0, 1).UnknownPut(2, "k", "b", 2).Delete(3, "k", 3, 4).Get(2, "k", null, 5, 6).Build();
        string path = Path.Combine(Path.GetTempPath(), $"rdmakv-history-{Guid.NewGuid():N}.jsonl");
        try
        {
            history.Save(path);
            var loaded = History.Load(path);
            Assert.Equal(history.Operations, loaded.Operations);
            Assert.Equal(history.TicksPerMillisecond, loaded.TicksPerMillisecond);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
