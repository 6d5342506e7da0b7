using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench;

/// <summary>Which phases a run does: YCSB's <c>load</c> and <c>run</c> commands, or both in one go.</summary>
public enum BenchPhase
{
    Both,
    Load,
    Run,
}

/// <summary>Everything a benchmark run is told, with the defaults it uses when told nothing. The command line mirrors it.</summary>
public sealed record BenchSettings
{
    public string Workload { get; init; } = "A";
    public string Target { get; init; } = Stores.StoreFactory.Embedded;
    public long Records { get; init; } = 100_000;
    public long Operations { get; init; } = 1_000_000;
    public int FieldCount { get; init; } = 10;
    public int FieldLength { get; init; } = 100;
    public int Threads { get; init; } = 1;

    /// <summary>uniform, zipfian or latest; null takes the workload's own.</summary>
    public string? Distribution { get; init; }

    /// <summary>The run phase stops after this many seconds even if operations remain; 0 means no limit.</summary>
    public double DurationSeconds { get; init; } = 60;

    public ulong Seed { get; init; } = 1;
    public BenchPhase Phase { get; init; } = BenchPhase.Both;
    public string? JsonPath { get; init; }

    /// <summary>The store's name in reports; null lets the store say (RdmaKv, Redis, Garnet).</summary>
    public string? Label { get; init; }

    /// <summary>Bytes of one record: the fields back to back.</summary>
    public int RecordBytes => FieldCount * FieldLength;

    public Workload ParsedWorkload => Ycsb.Workload.Parse(Workload);

    public Distribution RequestDistribution => Distribution is null ? ParsedWorkload.Distribution : Ycsb.Workload.ParseDistribution(Distribution);

    /// <summary>Throws ArgumentException with a message that names the option.</summary>
    public void Validate()
    {
        _ = ParsedWorkload;
        _ = RequestDistribution;
        if (Records is < 2 or > 1_000_000_000) throw new ArgumentException($"--records {Records} is out of range (2 to 1,000,000,000)");
        if (Operations < 0) throw new ArgumentException($"--operations {Operations} must not be negative");
        if (FieldCount is < 1 or > 1024) throw new ArgumentException($"--field-count {FieldCount} is out of range (1 to 1024)");
        if (FieldLength is < 1 or > 1 << 20) throw new ArgumentException($"--field-length {FieldLength} is out of range (1 to 1048576)");
        if ((long)FieldCount * FieldLength > RdmaKv.Core.Limits.MaxValueLength)
            throw new ArgumentException($"--field-count {FieldCount} x --field-length {FieldLength} is {(long)FieldCount * FieldLength} bytes, more than a value may hold ({RdmaKv.Core.Limits.MaxValueLength})");
        if (Threads is < 1 or > 1024) throw new ArgumentException($"--threads {Threads} is out of range (1 to 1024)");
        if (DurationSeconds < 0 || double.IsNaN(DurationSeconds)) throw new ArgumentException($"--duration {DurationSeconds} must be 0 (no limit) or more");
        if (string.IsNullOrWhiteSpace(Target)) throw new ArgumentException("--target is empty; use embedded, local:NAME, ucx://HOST:PORT or redis://HOST:PORT");
        if (Phase == BenchPhase.Run && Target == Stores.StoreFactory.Embedded)
            throw new ArgumentException("--phase run needs records loaded before; an embedded node starts empty, so use --phase both (the default)");
    }
}
