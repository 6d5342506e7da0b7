namespace RdmaKv.Storage;

/// <summary>What a node found on disk at start and how long recovering it took.</summary>
public sealed record RecoveryReport
{
    /// <summary>The checkpoint recovered, or null for a fresh (or log-only) start.</summary>
    public Guid? Checkpoint { get; init; }
    public DateTimeOffset? CheckpointTaken { get; init; }

    /// <summary>Log records replayed after the checkpoint.</summary>
    public long RecordsReplayed { get; init; }

    /// <summary>Where the log was cut at a torn or damaged record, or null when it was whole.</summary>
    public long? LogCutAt { get; init; }

    /// <summary>Newer checkpoints that were damaged or unfinished and were skipped.</summary>
    public IReadOnlyList<Guid> SkippedCheckpoints { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];
    public TimeSpan Elapsed { get; init; }

    public string Describe() =>
        (Checkpoint is null ? "no checkpoint" : $"checkpoint {Checkpoint} of {CheckpointTaken:u}")
        + $", {RecordsReplayed} log records replayed"
        + (LogCutAt is null ? "" : $", log cut at a damaged record at address {LogCutAt}")
        + (SkippedCheckpoints.Count == 0 ? "" : $", {SkippedCheckpoints.Count} damaged checkpoint(s) skipped")
        + $", in {Elapsed.TotalMilliseconds:F0} ms";
}

/// <summary>A finished checkpoint.</summary>
public sealed record CheckpointReport(Guid Token, long LogStart, long TruncatedUntil, TimeSpan Elapsed);
