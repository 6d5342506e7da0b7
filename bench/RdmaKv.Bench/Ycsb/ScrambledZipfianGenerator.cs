namespace RdmaKv.Bench.Ycsb;

/// <summary>
/// YCSB's ScrambledZipfianGenerator: a zipfian draw over ten billion items (zeta precomputed),
/// hashed with FNV-64 and taken modulo the item count, so the popular items are spread over the
/// key space instead of clustered at its start. Popularity follows zipfian only approximately:
/// several ranks can land on one item.
/// </summary>
public sealed class ScrambledZipfianGenerator
{
    /// <summary>YCSB's <c>ITEM_COUNT</c>: the zipfian draw's range.</summary>
    public const long ItemCount = 10_000_000_000L;

    /// <summary>YCSB's <c>ZETAN</c>: zeta(ItemCount, 0.99), precomputed.</summary>
    public const double Zetan = 26.46902820178302;

    readonly long _min;
    readonly long _itemCount;
    readonly ZipfianGenerator _zipfian;

    public ScrambledZipfianGenerator(long min, long max, double constant = ZipfianGenerator.DefaultConstant)
    {
        if (max < min) throw new ArgumentException($"scrambled zipfian range [{min}, {max}] is empty");
        _min = min;
        _itemCount = max - min + 1;
        // As YCSB: the precomputed zeta with the default constant; any other constant computes it,
        // which over ten billion items takes minutes.
        _zipfian = constant == ZipfianGenerator.DefaultConstant
            ? new ZipfianGenerator(0, ItemCount, constant, Zetan)
            : new ZipfianGenerator(0, ItemCount, constant);
    }

    public long Next(Rng rng)
    {
        long rank = _zipfian.Next(rng);
        return _min + Fnv.Hash64(rank) % _itemCount;
    }
}
