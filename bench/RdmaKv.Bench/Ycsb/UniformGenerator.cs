namespace RdmaKv.Bench.Ycsb;

/// <summary>YCSB's UniformLongGenerator: every integer in [min, max] equally likely.</summary>
public sealed class UniformGenerator(long min, long max)
{
    readonly long _interval = max >= min ? max - min + 1 : throw new ArgumentException($"uniform range [{min}, {max}] is empty");

    public long Next(Rng rng) => min + rng.NextLong(_interval);
}
