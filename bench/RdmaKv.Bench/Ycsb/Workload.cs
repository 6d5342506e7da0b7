namespace RdmaKv.Bench.Ycsb;

/// <summary>The operations of YCSB's core workload that a hash store can run.</summary>
public enum Operation
{
    Insert,
    Read,
    Update,
    ReadModifyWrite,
}

/// <summary>How the run phase picks a record: YCSB's <c>requestdistribution</c>.</summary>
public enum Distribution
{
    Uniform,
    Zipfian,
    Latest,
}

/// <summary>
/// One of YCSB's core workloads: the operation mix and the request distribution, as in
/// workloads/workloada..workloadf of YCSB.
/// </summary>
public sealed record Workload(string Name, string Summary, double Read, double Update, double Insert, double ReadModifyWrite, Distribution Distribution)
{
    public static readonly Workload A = new("A", "update heavy: read 50%, update 50%", 0.5, 0.5, 0, 0, Distribution.Zipfian);
    public static readonly Workload B = new("B", "read mostly: read 95%, update 5%", 0.95, 0.05, 0, 0, Distribution.Zipfian);
    public static readonly Workload C = new("C", "read only: read 100%", 1, 0, 0, 0, Distribution.Zipfian);
    public static readonly Workload D = new("D", "read latest: read 95%, insert 5%", 0.95, 0, 0.05, 0, Distribution.Latest);
    public static readonly Workload F = new("F", "read-modify-write: read 50%, read-modify-write 50%", 0.5, 0, 0, 0.5, Distribution.Zipfian);

    public static readonly IReadOnlyList<Workload> All = [A, B, C, D, F];

    public const string ScanMessage =
        "workload E is short range scans (95% scan, 5% insert): it needs keys in order, and a hash store such as RdmaKv " +
        "keeps them hashed, with no ordered scan to run; choose A, B, C, D or F";

    /// <summary>The workload named <paramref name="name"/> (a letter, any case); E and unknown names get an explanation.</summary>
    public static Workload Parse(string name)
    {
        string n = name.Trim().ToUpperInvariant();
        if (n.StartsWith("WORKLOAD", StringComparison.Ordinal)) n = n["WORKLOAD".Length..];
        if (n == "E") throw new ArgumentException(ScanMessage);
        return All.FirstOrDefault(w => w.Name == n)
            ?? throw new ArgumentException($"--workload '{name}' is not a YCSB core workload this benchmark runs; choose A, B, C, D or F");
    }

    public static Distribution ParseDistribution(string name) => name.Trim().ToLowerInvariant() switch
    {
        "uniform" => Distribution.Uniform,
        "zipfian" => Distribution.Zipfian,
        "latest" => Distribution.Latest,
        _ => throw new ArgumentException($"--distribution '{name}' is not one of uniform, zipfian, latest"),
    };

    /// <summary>YCSB's operation chooser (a DiscreteGenerator over read, update, insert, scan, read-modify-write, in that order).</summary>
    public Operation NextOperation(Rng rng)
    {
        double sum = Read + Update + Insert + ReadModifyWrite;
        double u = rng.NextDouble();
        if (u < Read / sum) return Operation.Read;
        u -= Read / sum;
        if (u < Update / sum) return Operation.Update;
        u -= Update / sum;
        if (u < Insert / sum) return Operation.Insert;
        return ReadModifyWrite > 0 ? Operation.ReadModifyWrite : Insert > 0 ? Operation.Insert : Update > 0 ? Operation.Update : Operation.Read;
    }
}
