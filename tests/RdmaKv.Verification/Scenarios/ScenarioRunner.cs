using System.Diagnostics;
using System.Text.Json;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Verification.Scenarios;

/// <summary>
/// Runs one scenario in this process: starts the node(s), records the load, injects the faults
/// (each after the load has made progress, and waits for progress again after it), reads every
/// key once at the end, checks the history and counts lost acknowledged writes. A history that
/// fails is saved (JSON lines, with the witness and the nodes' output next to it).
/// </summary>
public static class ScenarioRunner
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Where failing histories go: $RDMAKV_VERIFY_OUT, else TestResults/verify in the repository (next to the TRX files of scripts/test.sh).</summary>
    public static string OutputDirectory()
    {
        if (Environment.GetEnvironmentVariable("RDMAKV_VERIFY_OUT") is { Length: > 0 } dir) return dir;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RdmaKv.sln"))) return Path.Combine(d.FullName, "TestResults", "verify");
        return Path.Combine(AppContext.BaseDirectory, "TestResults", "verify");
    }

    public static ScenarioReport Run(Scenario scenario, string outputDirectory)
    {
        string work = Directory.CreateTempSubdirectory("rdmakv-verify-").FullName;
        Leftovers.Record("dir", work);
        var events = new List<string>();
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        int faults = 0;
        try
        {
            using var nemesis = Nemesis.Nemesis.Create(scenario.Nemesis);
            var connect = nemesis.Start(scenario, work);
            using var recorder = new Recorder(new RecorderOptions
            {
                Connect = connect,
                SharedClient = scenario.Shared,
                MaxOperations = scenario.MaxOperations,
                ValuePadding = scenario.Nemesis == "diskfull" ? Nemesis.DiskFull.ValuePadding : 0,
                MaxValuePadding = 2_000, // values of 5 B to 2 KB: extents of many sizes are freed and reused
                ReadOnlyThreads = scenario.Nemesis == "diskfull" ? 0 : 2,
                ReadPercent = scenario.Nemesis == "diskfull" ? 20 : 50,
            });
            recorder.Start();
            if (!recorder.WaitForProgress(200, Patience)) problems.Add($"the load did not start: {Describe(recorder.Errors)}");
            while (faults < scenario.Faults && clock.Elapsed < scenario.MaxTime && !recorder.Finished && problems.Count == 0)
            {
                var fault = nemesis.Inject(recorder);
                faults++;
                events.Add($"{clock.Elapsed.TotalSeconds:F1} s: {fault.Text}");
                if (fault.Problem is not null) problems.Add(fault.Problem);
                if (!recorder.WaitForProgress(300, Patience) && !recorder.Finished)
                    problems.Add($"no progress within {Patience.TotalSeconds} s after fault {faults}: {Describe(recorder.Errors)}");
            }
            // Without faults the load runs its operations out, bounded by time.
            if (scenario.Faults == 0) SpinWait.SpinUntil(() => recorder.Finished, scenario.MaxTime);
            if (recorder.Stop(Nemesis.Nemesis.ClientTimeout * 3) is var hung and > 0)
                problems.Add($"{hung} client thread(s) still inside a call {Nemesis.Nemesis.ClientTimeout.TotalSeconds * 3} s after the load stopped (client timeout {Nemesis.Nemesis.ClientTimeout.TotalSeconds} s): calls hang");
            // A node that fails or refuses shows as KvConnectionException or KvException; anything else leaked.
            foreach (var (type, (count, first)) in recorder.Errors.Where(e => e.Key is not (nameof(KvConnectionException) or nameof(KvException))))
                problems.Add($"clients got {count} x {type} (first: {first}); a client throws only KvConnectionException or KvException");
            if (nemesis.Heal() is { } healed)
            {
                events.Add(healed);
                if (!scenario.LossAllowed) problems.Add(healed);
            }
            var final = recorder.ReadAll(Patience);
            if (final.Count < recorder.Keys.Count()) problems.Add($"the final reads reached {final.Count} of {recorder.Keys.Count()} keys");
            var history = recorder.History();
            // Where a crash may lose acknowledged writes, each stretch between crashes must still be linearizable.
            var check = scenario.LossAllowed
                ? Segments.Check(history, nemesis.Kills, recorder.Snapshots, TimeSpan.FromSeconds(60))
                : LinearizabilityChecker.Check(history, maxTime: TimeSpan.FromSeconds(60));
            // Lost at any read-back (after a restart, and at the end): judged on what was invoked before it.
            var lost = recorder.Snapshots
                .SelectMany(s => LostWrites.Find(new History(history.Operations.Where(o => o.Invoke < s.Start)), s.Values))
                .DistinctBy(o => o.Id).ToList();
            double window = LossWindow(lost, nemesis.Kills, history.TicksPerMillisecond);
            bool passed = problems.Count == 0 && check.Verdict == Verdict.Linearizable && (scenario.LossAllowed || lost.Count == 0);
            string? file = null;
            if (check.Verdict != Verdict.Linearizable || lost.Count > 0 || !passed)
                file = Save(scenario, history, check, lost, problems, events, nemesis.Output, outputDirectory);
            return new ScenarioReport
            {
                Scenario = scenario.Name,
                Operations = history.Count,
                UnknownWrites = history.Operations.Count(o => o.IsUnknown),
                Faults = faults,
                Verdict = check.Verdict.ToString(),
                LostWrites = lost.Count,
                LossWindowMilliseconds = window,
                Witness = string.Join("\n", problems.Append(check.Verdict == Verdict.Linearizable ? "" : check.Explanation).Where(s => s.Length > 0)),
                HistoryFile = file,
                Events = events,
                Errors = recorder.Errors.ToDictionary(e => e.Key, e => $"{e.Value.Count} x, first: {e.Value.First}"),
                Passed = passed,
            };
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    static string Describe(IReadOnlyDictionary<string, (int Count, string First)> errors) =>
        errors.Count == 0 ? "no errors" : string.Join("; ", errors.Select(e => $"{e.Key} x{e.Value.Count}: {e.Value.First}"));

    /// <summary>The longest span from a lost write's acknowledgement to the first kill after it, in ms; -1 when none.</summary>
    static double LossWindow(IReadOnlyList<Operation> lost, List<long> kills, double ticksPerMillisecond)
    {
        double longest = -1;
        foreach (var w in lost)
            if (kills.Where(k => k >= w.Complete).DefaultIfEmpty(long.MinValue).Min() is var kill and not long.MinValue)
                longest = Math.Max(longest, (kill - w.Complete) / ticksPerMillisecond);
        return longest;
    }

    static string Save(Scenario scenario, History history, CheckResult check, IReadOnlyList<Operation> lost, List<string> problems, List<string> events, string nodeOutput, string directory)
    {
        string stem = Path.Combine(directory, $"{scenario.Name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        history.Save(stem + ".jsonl");
        File.WriteAllText(stem + ".txt", $"""
            scenario {scenario.Name}: {history.Count} operations
            {check.Explanation}

            problems: {string.Join("\n  ", problems.DefaultIfEmpty("none"))}
            events:
              {string.Join("\n  ", events)}
            lost acknowledged writes ({lost.Count}):
            {history.Describe(lost.Take(50))}

            node output:
            {nodeOutput}
            """);
        return stem + ".jsonl";
    }

    public static string ToJson(ScenarioReport report) => JsonSerializer.Serialize(report);

    public static ScenarioReport? FromJson(string json) => JsonSerializer.Deserialize<ScenarioReport>(json);
}
