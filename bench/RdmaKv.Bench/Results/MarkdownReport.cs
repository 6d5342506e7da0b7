using System.Globalization;
using System.Text;

namespace RdmaKv.Bench.Results;

/// <summary>A run as Markdown: a header that says what was measured where, and one row per phase and operation type.</summary>
public static class MarkdownReport
{
    public static string Render(BenchReport report)
    {
        var s = report.Settings;
        var m = report.Machine;
        var text = new StringBuilder();
        text.AppendLine(Inv($"### YCSB workload {s.Workload} ({s.WorkloadSummary}), {s.Distribution}: {report.Target.Label}"));
        text.AppendLine();
        text.AppendLine(Inv($"- target: `{report.Target.Uri}`, {report.Target.Store} over {report.Target.Transport}{(report.Target.ServerInfo is { } info ? $" ({info})" : "")}"));
        text.AppendLine(Inv($"- records: {s.Records:N0} of {s.FieldCount} x {s.FieldLength} B; operations: {s.Operations:N0}{(s.DurationSeconds > 0 ? $" or {s.DurationSeconds:0.#} s" : "")}; threads: {s.Threads}; seed: {s.Seed}"));
        text.AppendLine(Inv($"- machine: {m.Cores} cores ({m.Cpu ?? "cpu unknown"}), {m.MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB, {m.Os}, {m.Runtime}; load average {m.LoadAverageAtStart} at start, {m.LoadAverageAtEnd ?? "?"} at end"));
        foreach (var phase in report.Phases)
        {
            if (phase.StoppedByDuration) text.AppendLine(Inv($"- the {phase.Phase} phase stopped at its duration limit ({phase.ElapsedSeconds:0.0} s)"));
            if (phase.Interrupted) text.AppendLine(Inv($"- the {phase.Phase} phase was interrupted; its figures cover what ran"));
        }
        text.AppendLine();
        text.AppendLine("| phase | operation | ops | ops/s | mean µs | p50 µs | p95 µs | p99 µs | p99.9 µs | max µs | errors | retries |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var phase in report.Phases)
        {
            var rows = phase.ByOperation.Count > 1 ? [.. phase.ByOperation, phase.Total] : phase.ByOperation;
            foreach (var r in rows)
            {
                var l = r.Latency;
                text.AppendLine(Inv($"| {phase.Phase} | {r.Operation} | {r.Operations:N0} | {r.Throughput:N0} | {l.MeanUs:0.00} | {l.P50Us:0.00} | {l.P95Us:0.00} | {l.P99Us:0.00} | {l.P999Us:0.00} | {l.MaxUs:0.00} | {r.Errors:N0} | {(r.Retries is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "n/a")} |"));
            }
        }
        foreach (var phase in report.Phases)
            foreach (var r in phase.ByOperation)
                foreach (var (message, n) in r.ErrorMessages)
                    text.AppendLine(Inv($"\n{phase.Phase} {r.Operation} error x{n:N0}: {message}"));
        return text.ToString();
    }

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
