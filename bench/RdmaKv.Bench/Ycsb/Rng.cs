namespace RdmaKv.Bench.Ycsb;

/// <summary>
/// xoshiro256** seeded by SplitMix64: the uniform source every generator draws from. One per
/// thread (YCSB uses ThreadLocalRandom); the same seed gives the same sequence on every runtime.
/// </summary>
public sealed class Rng
{
    ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    /// <summary>The seed of stream <paramref name="stream"/> (a thread's) under a run's seed.</summary>
    public static ulong StreamSeed(ulong seed, int stream)
    {
        ulong s = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(stream + 1));
        return SplitMix(ref s);
    }

    static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, bound), without modulo bias (Lemire's method).</summary>
    public long NextLong(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "the bound must be positive");
        ulong range = (ulong)bound;
        UInt128 m = (UInt128)NextUInt64() * range;
        if ((ulong)m < range)
        {
            ulong threshold = (0 - range) % range;
            while ((ulong)m < threshold) m = (UInt128)NextUInt64() * range;
        }
        return (long)(m >> 64);
    }

    /// <summary>Fills <paramref name="destination"/> with printable ASCII, as YCSB's RandomByteIterator does.</summary>
    public void FillPrintable(Span<byte> destination)
    {
        int i = 0;
        while (i < destination.Length)
        {
            ulong bits = NextUInt64();
            // Six characters from 64 bits: each ' ' + (6 bits spread over 95 printable characters).
            for (int k = 0; k < 6 && i < destination.Length; k++, bits >>= 10)
                destination[i++] = (byte)(' ' + (int)((bits & 0x3FF) * 95 >> 10));
        }
    }
}
