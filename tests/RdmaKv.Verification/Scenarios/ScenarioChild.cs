using System.Diagnostics;
using RdmaKv.EndToEnd.Tests;

namespace RdmaKv.Verification.Scenarios;

/// <summary>
/// Runs a scenario in a child process (this assembly's own entry point), so a client that crashes
/// its process (an access violation in native memory) fails the scenario, not the test host.
/// </summary>
public static class ScenarioChild
{
    const string Marker = "REPORT ";

    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "RdmaKv.Verification.dll");

    public static ScenarioReport Run(Scenario scenario, string outputDirectory)
    {
        string leftovers = Path.Combine(Path.GetTempPath(), $"rdmakv-verify-leftovers-{Guid.NewGuid():N}");
        try
        {
            return RunChild(scenario, outputDirectory, leftovers);
        }
        finally
        {
            Leftovers.CleanUp(leftovers);
        }
    }

    static ScenarioReport RunChild(Scenario scenario, string outputDirectory, string leftovers)
    {
        using var process = Binaries.Start(Assembly, ["scenario", scenario.Name, "--out", outputDirectory,
            "--operations", scenario.MaxOperations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seconds", scenario.MaxTime.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--faults", scenario.Faults.ToString(System.Globalization.CultureInfo.InvariantCulture)], environment: Leftovers.ChildEnvironment(leftovers));
        var output = new RdmaKv.Tests.ProcessOutput(process);
        process.StandardInput.Close();
        var patience = scenario.MaxTime + TimeSpan.FromMinutes(4);
        bool exited = process.WaitForExit(patience);
        if (!exited) Binaries.KillTree(process);
        process.WaitForExit();
        // UCX prints warnings to stdout too, sometimes on the same line.
        string line = output.Stdout.Split('\n').LastOrDefault(l => l.Contains(Marker + "{", StringComparison.Ordinal)) ?? "";
        if (exited && process.ExitCode == 0 && line.Length > 0) return ScenarioRunner.FromJson(line[(line.IndexOf(Marker + "{", StringComparison.Ordinal) + Marker.Length)..])!;
        string tail = Tail(output.Stderr + "\n" + output.Stdout, 3000);
        string what = exited ? $"the scenario process died with exit code {process.ExitCode}" : $"the scenario process did not finish within {patience}";
        return new ScenarioReport { Scenario = scenario.Name, Verdict = exited ? "Crashed" : "Hung", Witness = $"{what}:\n{tail}", Passed = false };
    }

    static string Tail(string text, int chars) => text.Length <= chars ? text : "..." + text[^chars..];

    /// <summary>The child's side: runs the scenario and prints its report as one line.</summary>
    public static int Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "scenario") return RunHere(args);
        if (args.Length >= 1 && args[0] == "verify") return LongRun.Run(args[1..]);
        if (args.Length >= 1 && args[0] == "failover-bench") return Bench.FailoverBench.Run(args[1..]);
        if (args.Length == 2 && args[0] == "check")
        {
            var result = LinearizabilityChecker.Check(History.Load(args[1]));
            Console.WriteLine(result.Explanation);
            return result.Verdict == Verdict.Linearizable ? 0 : 1;
        }
        Console.Error.WriteLine("usage: RdmaKv.Verification scenario NAME [--out DIR] [--operations N] [--seconds S] [--faults N] | verify [--minutes N] [--only TEXT] | check HISTORY.jsonl | failover-bench [--kills N] [--slot-keys N]");
        return 2;
    }

    static int RunHere(string[] args)
    {
        var scenario = Scenario.Find(args[1]);
        if (scenario is null)
        {
            Console.Error.WriteLine($"no scenario named {args[1]}");
            return 2;
        }
        string output = ScenarioRunner.OutputDirectory();
        for (int i = 2; i + 1 < args.Length; i += 2)
        {
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            switch (args[i])
            {
                case "--out": output = args[i + 1]; break;
                case "--operations": scenario = scenario with { MaxOperations = int.Parse(args[i + 1], inv) }; break;
                case "--seconds": scenario = scenario with { MaxTime = TimeSpan.FromSeconds(double.Parse(args[i + 1], inv)) }; break;
                case "--faults": scenario = scenario with { Faults = int.Parse(args[i + 1], inv) }; break;
            }
        }
        Directory.CreateDirectory(output);
        Loopback.Use();
        var report = ScenarioRunner.Run(scenario, output);
        Console.Out.Flush();
        Console.WriteLine(Marker + ScenarioRunner.ToJson(report));
        return 0;
    }
}
