namespace RdmaKv.Verification.Scenarios;

/// <summary>What a scenario found: the checker's verdict and witness, lost acknowledged writes, and what the faults did.</summary>
public sealed record ScenarioReport
{
    public required string Scenario { get; init; }
    public int Operations { get; init; }
    public int UnknownWrites { get; init; }
    public int Faults { get; init; }
    public required string Verdict { get; init; }
    public int LostWrites { get; init; }

    /// <summary>The longest time from a lost write's acknowledgement to the kill after it, in ms (-1: none lost or no kill after).</summary>
    public double LossWindowMilliseconds { get; init; } = -1;

    public string Witness { get; init; } = "";
    public string? HistoryFile { get; init; }
    public List<string> Events { get; init; } = [];
    public Dictionary<string, string> Errors { get; init; } = [];

    /// <summary>True when nothing this scenario promises was broken (async loss across a kill is measured, not promised).</summary>
    public bool Passed { get; init; }
}
