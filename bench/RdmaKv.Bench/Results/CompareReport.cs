using System.Globalization;
using System.Text;
using RdmaKv.Bench.Results;

namespace RdmaKv.Bench;

/// <summary>
/// Puts run results of several stores side by side: per workload and thread count, each store's
/// run-phase throughput and p50/p99 over all operations, and RdmaKv's ratios to each peer (for
/// its first transport, and for a second one such as UCX when there is one).
/// </summary>
public static class CompareReport
{
    public static int Run(DirectoryInfo directory, IReadOnlyList<string> peaks, TextWriter output, TextWriter error)
    {
        var peakRates = new List<(string Name, double Rate)>();
        foreach (string peak in peaks)
        {
            string[] parts = peak.Split('=', 2);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate <= 0)
            {
                error.WriteLine($"rdmakv-bench compare: --peak '{peak}' is not NAME=OPS, e.g. Redis=250000");
                return Benchmark.ExitBadOptions;
            }
            peakRates.Add((parts[0], rate));
        }
        if (!directory.Exists)
        {
            error.WriteLine($"rdmakv-bench compare: {directory.FullName} does not exist");
            return Benchmark.ExitBadOptions;
        }
        var reports = new List<BenchReport>();
        foreach (var file in directory.GetFiles("*.json").OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            try
            {
                var report = BenchReport.FromJson(File.ReadAllText(file.FullName));
                if (report.Tool == BenchReport.ToolName && report.Run is not null) reports.Add(report);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
            {
                error.WriteLine($"rdmakv-bench compare: skipping {file.Name}: {e.Message}");
            }
        }
        if (reports.Count == 0)
        {
            error.WriteLine($"rdmakv-bench compare: no run results in {directory.FullName}");
            return Benchmark.ExitBadOptions;
        }
        output.Write(Render(reports));
        var oneThreadC = reports.FirstOrDefault(r => IsRdmaKv(r) && r.Settings.Workload == "C" && r.Settings.Threads == 1)?.Run!.Total;
        if (oneThreadC is not null && peakRates.Count > 0)
        {
            var best = peakRates.MaxBy(p => p.Rate);
            output.WriteLine(Inv($"RdmaKv workload C with one client thread: {oneThreadC.Throughput:N0} ops/s, {oneThreadC.Throughput / best.Rate:0.00}x the best pipelined peak ({best.Name}, {best.Rate:N0} GET/s)."));
        }
        return Benchmark.ExitOk;
    }

    public static string Render(IReadOnlyList<BenchReport> reports)
    {
        var text = new StringBuilder();
        // RdmaKv's first row of each group (its shared-memory run, by label) is set against each
        // peer; a second RdmaKv row (over UCX) gets its own pair of columns, throughput and p50.
        string? second = reports.Where(IsRdmaKv).Select(r => r.Target.Label).Distinct().Order(StringComparer.Ordinal).Skip(1).FirstOrDefault();
        string extraHeader = second is null ? "" : $" {second} ops/s ÷ this | this p50 ÷ {second} p50 |";
        text.AppendLine("| workload | threads | store | transport | ops/s | p50 µs | p99 µs | errors | RdmaKv ops/s ÷ this | this p99 ÷ RdmaKv p99 |" + extraHeader);
        text.AppendLine("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (second is null ? "" : " ---: | ---: |"));
        foreach (var group in reports.GroupBy(r => (r.Settings.Workload, r.Settings.Threads)).OrderBy(g => g.Key.Workload, StringComparer.Ordinal).ThenBy(g => g.Key.Threads))
        {
            var ordered = group.OrderBy(r => IsRdmaKv(r) ? 0 : 1).ThenBy(r => r.Target.Label, StringComparer.Ordinal).ToList();
            var ours = ordered.FirstOrDefault(IsRdmaKv)?.Run!.Total;
            var remote = second is null ? null : ordered.FirstOrDefault(r => IsRdmaKv(r) && r.Target.Label == second)?.Run!.Total;
            foreach (var r in ordered)
            {
                var t = r.Run!.Total;
                bool peer = !IsRdmaKv(r);
                string ratio = ours is null || !peer ? "" : Ratio(ours.Throughput, t.Throughput);
                string p99 = ours is null || !peer ? "" : Ratio(t.Latency.P99Us, ours.Latency.P99Us);
                string extra = second is null ? ""
                    : remote is null || !peer ? "  |  |" : $" {Ratio(remote.Throughput, t.Throughput)} | {Ratio(t.Latency.P50Us, remote.Latency.P50Us)} |";
                text.AppendLine(Inv($"| {group.Key.Workload} | {group.Key.Threads} | {r.Target.Label} | {r.Target.Transport} | {t.Throughput:N0} | {t.Latency.P50Us:0.00} | {t.Latency.P99Us:0.00} | {t.Errors:N0} | {ratio} | {p99} |") + extra);
            }
        }
        var first = reports[0];
        var m = first.Machine;
        text.AppendLine();
        text.AppendLine(Inv($"Machine: {m.Cores} cores ({m.Cpu ?? "cpu unknown"}), {m.MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB, {m.Os}; clients and servers share these cores."));
        text.AppendLine(Inv($"Records: {first.Settings.Records:N0} of {first.Settings.RecordBytes} B; request distribution per workload as YCSB's; latencies over all operations of the run phase."));
        var loads = reports.SelectMany(r => new[] { r.Machine.LoadAverageAtStart, r.Machine.LoadAverageAtEnd })
            .OfType<string>().Select(l => double.TryParse(l.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN)
            .Where(v => !double.IsNaN(v)).ToList();
        if (loads.Count > 0) text.AppendLine(Inv($"1-minute load average during the runs: {loads.Min():0.00} to {loads.Max():0.00}."));
        return text.ToString();
    }

    static bool IsRdmaKv(BenchReport r) => r.Target.Store == "RdmaKv";

    static string Ratio(double a, double b) => b > 0 ? Inv($"{a / b:0.0}x") : "n/a";

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
