using System.Text.Json;
using System.Text.Json.Serialization;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench.Results;

/// <summary>The settings a run used, resolved (the workload's distribution when none was given).</summary>
public sealed record ReportSettings(
    string Workload,
    string WorkloadSummary,
    double ReadProportion,
    double UpdateProportion,
    double InsertProportion,
    double ReadModifyWriteProportion,
    string Distribution,
    long Records,
    long Operations,
    int FieldCount,
    int FieldLength,
    int RecordBytes,
    int Threads,
    double DurationSeconds,
    ulong Seed,
    string Phase,
    string KeyFormat)
{
    public static ReportSettings From(BenchSettings s)
    {
        var w = s.ParsedWorkload;
        return new(w.Name, w.Summary, w.Read, w.Update, w.Insert, w.ReadModifyWrite, s.RequestDistribution.ToString().ToLowerInvariant(),
            s.Records, s.Operations, s.FieldCount, s.FieldLength, s.RecordBytes, s.Threads, s.DurationSeconds, s.Seed,
            s.Phase.ToString().ToLowerInvariant(), "\"user\" + decimal FNV-64 hash of the key number (YCSB insertorder=hashed)");
    }
}

/// <summary>What was measured and how the client reached it.</summary>
public sealed record TargetInfo(string Uri, string Store, string Label, string Transport, string? ServerInfo);

/// <summary>Everything one run produced; written as the --json file.</summary>
public sealed record BenchReport(
    string Tool,
    int FormatVersion,
    DateTime StartedUtc,
    ReportSettings Settings,
    TargetInfo Target,
    MachineInfo Machine,
    PhaseResult? Load,
    PhaseResult? Run)
{
    public const string ToolName = "rdmakv-bench";
    public const int CurrentFormat = 1;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static BenchReport FromJson(string json) =>
        JsonSerializer.Deserialize<BenchReport>(json, Json) ?? throw new InvalidDataException("the JSON holds no report");

    public IEnumerable<PhaseResult> Phases => new[] { Load, Run }.OfType<PhaseResult>();

    /// <summary>Operations that failed in any phase.</summary>
    public long Errors => Phases.Sum(p => p.Total.Errors);
}
