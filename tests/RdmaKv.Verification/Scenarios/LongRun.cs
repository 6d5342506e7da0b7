using System.Diagnostics;
using System.Globalization;

namespace RdmaKv.Verification.Scenarios;

/// <summary>
/// <c>verify --minutes N</c>: every scenario of <see cref="Scenario.Long"/>, each in its own child
/// process with an equal share of the time (at least 20 s), then a table: scenario, operations,
/// faults, verdict, acknowledged writes lost. Exit code 1 when a scenario broke a promise.
/// </summary>
static class LongRun
{
    public static int Run(string[] args)
    {
        double minutes = 10;
        string? only = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--minutes") minutes = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--only") only = args[i + 1];
        }
        // --only a,b: the scenarios whose names contain a or b.
        var wanted = only?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var all = Scenario.Long(TimeSpan.Zero).Where(s => wanted is null || wanted.Any(w => s.Name.Contains(w, StringComparison.Ordinal))).ToList();
        var share = TimeSpan.FromSeconds(Math.Max(20, minutes * 60 / Math.Max(1, all.Count) - 10));
        string output = ScenarioRunner.OutputDirectory();
        Directory.CreateDirectory(output);
        Console.WriteLine($"{all.Count} scenarios, {share.TotalSeconds:F0} s each; failing histories go to {output}");
        var reports = new List<ScenarioReport>();
        var clock = Stopwatch.StartNew();
        foreach (var scenario in all)
        {
            var report = ScenarioChild.Run(scenario with { MaxTime = share }, output);
            reports.Add(report);
            Console.WriteLine(Row(report));
            if (!report.Passed)
                Console.WriteLine("    " + (report.Witness.Length > 1500 ? report.Witness[..1500] + "..." : report.Witness).Replace("\n", "\n    ", StringComparison.Ordinal));
            if (report.HistoryFile is not null) Console.WriteLine($"    history: {report.HistoryFile}");
        }
        Console.WriteLine();
        Console.WriteLine(Header);
        foreach (var r in reports) Console.WriteLine(Row(r));
        Console.WriteLine($"{reports.Count(r => r.Passed)} of {reports.Count} scenarios kept their promises, in {clock.Elapsed.TotalMinutes:F1} min");
        return reports.All(r => r.Passed) ? 0 : 1;
    }

    static string Header => $"{"scenario",-36} {"operations",10} {"faults",6} {"verdict",-16} {"acked lost",10} {"loss window",11}  result";

    static string Row(ScenarioReport r) =>
        $"{r.Scenario,-36} {r.Operations,10} {r.Faults,6} {r.Verdict,-16} {r.LostWrites,10} {(r.LossWindowMilliseconds < 0 ? "-" : $"{r.LossWindowMilliseconds:F0} ms"),11}  {(r.Passed ? "ok" : "FAILED")}";
}
