namespace RdmaKv.Bench.Ycsb;

/// <summary>
/// YCSB's ZipfianGenerator: integers in [min, max], item <c>min</c> the most popular, drawn by
/// the method of Gray et al., "Quickly Generating Billion-Record Synthetic Databases" (SIGMOD
/// 1994). zeta(n, theta) is computed once (or given); when the item count grows, it is extended
/// incrementally, never recomputed. Thread-safe: the draw uses the caller's <see cref="Rng"/>.
/// </summary>
public sealed class ZipfianGenerator
{
    /// <summary>YCSB's <c>ZIPFIAN_CONSTANT</c>.</summary>
    public const double DefaultConstant = 0.99;

    readonly long _items;
    readonly long _base;
    readonly double _theta;
    readonly double _alpha;
    readonly double _zeta2Theta;
    readonly double _secondBound; // 1 + 0.5^theta, which YCSB computes on every draw
    readonly object _grow = new();
    ZetaState _state;

    /// <summary>zeta(n) and eta for one item count, swapped whole so a reader never mixes two counts.</summary>
    sealed record ZetaState(long CountForZeta, double Zetan, double Eta);

    public ZipfianGenerator(long min, long max, double constant = DefaultConstant, double? zetan = null)
    {
        if (max < min) throw new ArgumentException($"zipfian range [{min}, {max}] is empty");
        if (constant is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(constant), constant, "the zipfian constant must be in (0, 1)");
        _items = max - min + 1;
        _base = min;
        _theta = constant;
        _zeta2Theta = Zeta(2, _theta);
        _alpha = 1.0 / (1.0 - _theta);
        _secondBound = 1.0 + Math.Pow(0.5, _theta);
        double z = zetan ?? Zeta(_items, _theta);
        _state = new ZetaState(_items, z, Eta(z));
    }

    /// <summary>YCSB's <c>ZipfianGenerator(items)</c>: the range [0, items - 1].</summary>
    public ZipfianGenerator(long items) : this(0, items - 1)
    {
    }

    public long Items => _items;
    public double Zetan => _state.Zetan;

    /// <summary>sum over i in [1, n] of 1 / i^theta.</summary>
    public static double Zeta(long n, double theta) => Zeta(0, n, theta, 0);

    /// <summary>Extends a partial sum over [1, start] to [1, n].</summary>
    public static double Zeta(long start, long n, double theta, double initialSum)
    {
        double sum = initialSum;
        for (long i = start; i < n; i++) sum += 1 / Math.Pow(i + 1, theta);
        return sum;
    }

    // YCSB computes eta with the constructor's item count even after zetan was extended to a
    // larger count; kept as it is, so the draws match YCSB's.
    double Eta(double zetan) => (1 - Math.Pow(2.0 / _items, 1 - _theta)) / (1 - _zeta2Theta / zetan);

    public long Next(Rng rng) => NextLong(_items, rng);

    /// <summary>A draw over the first <paramref name="itemCount"/> items (YCSB's <c>nextLong(itemcount)</c>).</summary>
    public long NextLong(long itemCount, Rng rng)
    {
        var state = _state;
        if (itemCount > state.CountForZeta) state = Grow(itemCount);
        // As YCSB with allowitemcountdecrease=false: a smaller count keeps the larger zeta.
        double u = rng.NextDouble();
        double uz = u * state.Zetan;
        if (uz < 1.0) return _base;
        if (uz < _secondBound) return _base + 1;
        return _base + (long)(itemCount * Math.Pow(state.Eta * u - state.Eta + 1, _alpha));
    }

    ZetaState Grow(long itemCount)
    {
        lock (_grow)
        {
            var state = _state;
            if (itemCount <= state.CountForZeta) return state;
            double zetan = Zeta(state.CountForZeta, itemCount, _theta, state.Zetan);
            return _state = new ZetaState(itemCount, zetan, Eta(zetan));
        }
    }
}
