namespace RdmaKv.Benchmarks;

/// <summary>
/// Zipfian ranks over [0, n) with constant theta, by the method of Gray et al. ("Quickly
/// generating billion-record synthetic databases", SIGMOD 1994), as YCSB draws them; rank 0 is
/// the most popular. Scrambled: ranks are spread over the key space by a hash (FNV-1a 64).
/// </summary>
public sealed class Zipfian
{
    readonly long _n;
    readonly double _theta;
    readonly double _alpha;
    readonly double _zetan;
    readonly double _eta;
    readonly Random _random;

    public Zipfian(long n, double theta = 0.99, int seed = 1)
    {
        _n = n;
        _theta = theta;
        _random = new Random(seed);
        double zeta2 = Zeta(2, theta);
        _zetan = Zeta(n, theta);
        _alpha = 1.0 / (1.0 - theta);
        _eta = (1 - Math.Pow(2.0 / n, 1 - theta)) / (1 - zeta2 / _zetan);
    }

    public static double Zeta(long n, double theta)
    {
        double sum = 0;
        for (long i = 1; i <= n; i++) sum += 1 / Math.Pow(i, theta);
        return sum;
    }

    public long NextRank()
    {
        double u = _random.NextDouble();
        double uz = u * _zetan;
        if (uz < 1.0) return 0;
        if (uz < 1.0 + Math.Pow(0.5, _theta)) return 1;
        return (long)(_n * Math.Pow(_eta * u - _eta + 1, _alpha));
    }

    public long NextScrambled() => (long)(Fnv1a(NextRank()) % (ulong)_n);

    static ulong Fnv1a(long value)
    {
        ulong hash = 0xCBF29CE484222325;
        for (int i = 0; i < 8; i++)
        {
            hash ^= (ulong)(value & 0xFF);
            hash *= 0x100000001B3;
            value >>= 8;
        }
        return hash;
    }
}
