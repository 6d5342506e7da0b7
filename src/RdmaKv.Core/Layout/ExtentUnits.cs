namespace RdmaKv.Core;

/// <summary>
/// The 64-byte unit the extent area is counted in: extent lengths and offsets in entries, the
/// allocator's size classes, region sizes, and the cold tier's reference bits (one per unit).
/// </summary>
public static class ExtentUnits
{
    public const int Size = 64;
    const int Shift = 6;

    /// <summary>Bytes in <paramref name="units"/> units.</summary>
    public static int Bytes(int units) => units << Shift;

    public static long Bytes(long units) => units << Shift;

    /// <summary>Units in <paramref name="bytes"/>, which must be a multiple of the unit.</summary>
    public static long Count(long bytes) => bytes >> Shift;

    /// <summary>Units needed to hold <paramref name="bytes"/>.</summary>
    public static int CountUp(int bytes) => (bytes + Size - 1) >> Shift;

    public static int RoundUp(int bytes) => (bytes + Size - 1) & ~(Size - 1);

    public static long RoundUp(long bytes) => (bytes + Size - 1) & ~(long)(Size - 1);

    public static long RoundDown(long bytes) => bytes & ~(long)(Size - 1);
}
