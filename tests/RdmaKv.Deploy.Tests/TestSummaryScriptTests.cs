using System.Text.RegularExpressions;

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// scripts/test-summary.sh, the last line of scripts/test.sh and of CI, fed crafted TRX files: a run
/// whose test host crashed, hung or never ran its tests must not read "N passed, 0 failed".
/// </summary>
public sealed partial class TestSummaryScriptTests : IDisposable
{
    static string Script => Path.Combine(Repository.Root, "scripts", "test-summary.sh");
    readonly string _results = Directory.CreateTempSubdirectory("rdmakv-trx-").FullName;

    public void Dispose() => Directory.Delete(_results, recursive: true);

    [GeneratedRegex(@"\A\d+ passed, \d+ failed\z")]
    private static partial Regex SummaryLine();

    void WriteTrx(string project, string counters) =>
        File.WriteAllText(Path.Combine(_results, project + ".trx"),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="0" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <ResultSummary outcome="Completed">
                <Counters {counters} />
              </ResultSummary>
            </TestRun>
            """);

    static string Counters(int total, int executed, int passed, int failed = 0, int error = 0, int timeout = 0,
        int aborted = 0, int notExecuted = 0) =>
        $"total=\"{total}\" executed=\"{executed}\" passed=\"{passed}\" failed=\"{failed}\" error=\"{error}\" " +
        $"timeout=\"{timeout}\" aborted=\"{aborted}\" inconclusive=\"0\" passedButRunAborted=\"0\" notRunnable=\"0\" " +
        $"notExecuted=\"{notExecuted}\" disconnected=\"0\" warning=\"0\" completed=\"0\" inProgress=\"0\" pending=\"0\"";

    /// <summary>Runs the script over the results directory and returns its exit code and its last line.</summary>
    (int ExitCode, string Summary) Summarise(params string[] projects)
    {
        var run = Tool.Run("bash", [Script, _results, .. projects]);
        string last = run.Output.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches(SummaryLine(), last);
        return (run.ExitCode, last);
    }

    [Fact]
    public void TheScriptsParse()
    {
        Tool.Run("bash", "-n", Script).Succeeded();
        Tool.Run("bash", "-n", Path.Combine(Repository.Root, "scripts", "test.sh")).Succeeded();
    }

    [Fact]
    public void ARunWhereEveryTestPassedSucceeds()
    {
        WriteTrx("A", Counters(total: 10, executed: 10, passed: 10));
        WriteTrx("B", Counters(total: 3, executed: 3, passed: 3));
        Assert.Equal((0, "13 passed, 0 failed"), Summarise("A=0", "B=0"));
    }

    [Fact]
    public void FailuresErrorsTimeoutsAndAbortsAllCountAsFailed()
    {
        WriteTrx("A", Counters(total: 10, executed: 10, passed: 6, failed: 1, error: 1, timeout: 1, aborted: 1));
        Assert.Equal((1, "6 passed, 4 failed"), Summarise("A=1"));
    }

    [Fact]
    public void TestsThatNeverRanCountAsFailed()
    {
        // A host that hung and was killed by --blame-hang-timeout: 7 of 10 ran, and no counter says so.
        WriteTrx("Hung", Counters(total: 10, executed: 7, passed: 7));
        // Tests reported as not executed (skipped, or left behind by an aborted run).
        WriteTrx("Skipped", Counters(total: 4, executed: 2, passed: 2, notExecuted: 2));
        Assert.Equal((1, "9 passed, 5 failed"), Summarise("Hung=1", "Skipped=0"));
    }

    [Fact]
    public void AProjectWithoutResultsCountsAsFailed()
    {
        WriteTrx("A", Counters(total: 5, executed: 5, passed: 5));
        File.WriteAllText(Path.Combine(_results, "Truncated.trx"), "<?xml version=\"1.0\"?><TestRun>");
        Assert.Equal((1, "5 passed, 2 failed"), Summarise("A=0", "Truncated=1", "Missing=1"));
    }

    [Fact]
    public void AProjectWhoseTestRunFailedWithCleanCountersCountsAsFailed()
    {
        // The test host crashed between tests: every test it reported passed, and dotnet test failed.
        WriteTrx("Crashed", Counters(total: 8, executed: 8, passed: 8));
        Assert.Equal((1, "8 passed, 1 failed"), Summarise("Crashed=1"));
    }
}
