using RdmaKv.Bench.Results;
using RdmaKv.Bench.Stores;
using RdmaKv.Client;

namespace RdmaKv.Bench;

/// <summary>One benchmark run from settings to report, and the exit codes the command lines return.</summary>
public static class Benchmark
{
    /// <summary>Every operation succeeded.</summary>
    public const int ExitOk = 0;

    /// <summary>The run finished, but some operations failed (the report counts them).</summary>
    public const int ExitOperationsFailed = 1;

    /// <summary>The options, or the target's address, are not valid.</summary>
    public const int ExitBadOptions = 2;

    /// <summary>The target could not be reached.</summary>
    public const int ExitNoTarget = 3;

    /// <summary>Opens the target, runs the phases the settings ask for, and closes the target (stopping an embedded node).</summary>
    public static BenchReport Execute(BenchSettings settings, IProgressView progress, CancellationToken cancel)
    {
        settings.Validate();
        var started = DateTime.UtcNow;
        var machine = MachineInfo.Capture();
        using var store = StoreFactory.Open(settings.Target, settings.RecordBytes, settings.Records);
        var runner = new BenchRunner(settings, store, progress);
        PhaseResult? load = settings.Phase != BenchPhase.Run ? runner.Load(cancel) : null;
        PhaseResult? run = settings.Phase != BenchPhase.Load && !cancel.IsCancellationRequested ? runner.Run(cancel) : null;
        var target = new TargetInfo(settings.Target, store.Store, settings.Label ?? store.Store, store.Transport, store.ServerInfo);
        return new BenchReport(BenchReport.ToolName, BenchReport.CurrentFormat, started, ReportSettings.From(settings), target,
            machine with { LoadAverageAtEnd = MachineInfo.LoadAverage() }, load, run);
    }

    /// <summary>Runs, prints the Markdown table on <paramref name="output"/>, writes the JSON file, and maps failures to exit codes with a message on <paramref name="error"/>.</summary>
    public static int Run(BenchSettings settings, IProgressView progress, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        BenchReport report;
        try
        {
            report = Execute(settings, progress, cancel);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"rdmakv bench: {e.Message}");
            return ExitBadOptions;
        }
        catch (Exception e) when (e is IOException or KvException or UnauthorizedAccessException or InvalidOperationException)
        {
            error.WriteLine($"rdmakv bench: cannot run against {settings.Target}: {e.Message}");
            return ExitNoTarget;
        }
        output.Write(MarkdownReport.Render(report));
        if (settings.JsonPath is { } path)
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            File.WriteAllText(path, report.ToJson());
        }
        if (report.Errors > 0)
        {
            error.WriteLine($"rdmakv bench: {report.Errors:N0} operations failed; the table and the JSON say which and why");
            return ExitOperationsFailed;
        }
        return ExitOk;
    }
}
