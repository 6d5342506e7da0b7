using RdmaKv.Verification.Scenarios;

namespace RdmaKv.Verification;

[CollectionDefinition(nameof(ScenarioTests), DisableParallelization = true)]
public sealed class ScenarioCollection;

/// <summary>
/// The short scenarios against real node processes, each in a child process of its own (a client
/// that crashes its process fails the scenario, not this host). A scenario passes when its history
/// is linearizable with the final reads, no acknowledged write is lost (measured, not required,
/// for async durability across a kill), no call hangs through a fault, and the node stays up.
/// Failing histories are kept under TestResults/verify (or $RDMAKV_VERIFY_OUT).
/// </summary>
[Collection(nameof(ScenarioTests))]
public sealed class ScenarioTests
{
    public static TheoryData<string> Short() => [.. Scenario.Short().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Short))]
    public void AScenarioKeepsItsPromisesUnderItsFault(string name)
    {
        var scenario = Scenario.Short().Single(s => s.Name == name);
        string output = ScenarioRunner.OutputDirectory();
        Directory.CreateDirectory(output);
        var report = ScenarioChild.Run(scenario, output);
        string summary = $"""
            {report.Scenario}: {report.Operations} operations ({report.UnknownWrites} unknown writes), {report.Faults} faults, verdict {report.Verdict}, {report.LostWrites} acknowledged writes lost, loss window {report.LossWindowMilliseconds:F0} ms
            events: {string.Join("; ", report.Events)}
            client errors: {string.Join("; ", report.Errors.Select(e => $"{e.Key}: {e.Value}"))}
            history: {report.HistoryFile ?? "(none kept)"}
            {report.Witness}
            """;
        Console.WriteLine(summary);
        Assert.True(report.Passed, summary);
        Assert.True(report.Faults >= Math.Min(1, scenario.Faults), summary);
    }
}
