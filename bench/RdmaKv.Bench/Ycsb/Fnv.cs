namespace RdmaKv.Bench.Ycsb;

/// <summary>YCSB's <c>Utils.fnvhash64</c>: FNV-1a over the eight bytes of a long, low byte first, made non-negative.</summary>
public static class Fnv
{
    public const ulong OffsetBasis = 0xCBF29CE484222325UL;
    public const ulong Prime = 1099511628211UL;

    public static long Hash64(long value)
    {
        ulong hash = OffsetBasis;
        for (int i = 0; i < 8; i++)
        {
            hash ^= (ulong)(value & 0xFF);
            hash *= Prime;
            value >>= 8; // arithmetic shift, as Java's >> on a long
        }
        long signed = (long)hash;
        // Java's Math.abs leaves long.MinValue as it is; C#'s would throw.
        return signed == long.MinValue ? long.MaxValue : Math.Abs(signed);
    }
}
