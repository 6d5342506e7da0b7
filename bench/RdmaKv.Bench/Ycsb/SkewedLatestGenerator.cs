namespace RdmaKv.Bench.Ycsb;

/// <summary>
/// YCSB's SkewedLatestGenerator ("latest"): a zipfian distance back from the most recent
/// acknowledged insert, so the newest records are the hottest and the hot set moves as inserts land.
/// </summary>
public sealed class SkewedLatestGenerator
{
    readonly CounterGenerator _basis;
    readonly ZipfianGenerator _zipfian;

    public SkewedLatestGenerator(CounterGenerator basis)
    {
        _basis = basis;
        long last = basis.LastValue;
        if (last < 1) throw new ArgumentException("the latest distribution needs at least two records");
        _zipfian = new ZipfianGenerator(last);
    }

    public long Next(Rng rng)
    {
        long max = _basis.LastValue;
        return max - _zipfian.NextLong(max, rng);
    }
}
