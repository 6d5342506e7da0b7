using System.Buffers.Text;

namespace RdmaKv.Bench.Ycsb;

/// <summary>
/// Picks the record of each run-phase operation and numbers new inserts, as YCSB's CoreWorkload
/// does: zipfian is scrambled zipfian over the records plus twice the expected inserts, latest
/// follows the acknowledged inserts, uniform spans the loaded records; a draw past the last
/// acknowledged insert is drawn again. Thread-safe given one <see cref="Rng"/> per thread.
/// </summary>
public sealed class KeyChooser
{
    readonly Func<Rng, long> _draw;

    public KeyChooser(Distribution distribution, long records, long operations, double insertProportion)
    {
        if (records < 2) throw new ArgumentException($"--records {records}: a run needs at least 2 records");
        Inserts = new AcknowledgedCounterGenerator(records);
        switch (distribution)
        {
            case Distribution.Uniform:
                var uniform = new UniformGenerator(0, records - 1);
                _draw = uniform.Next;
                break;
            case Distribution.Zipfian:
                long expectedNewKeys = (long)(operations * insertProportion * 2.0); // YCSB's fudge factor of 2
                var zipfian = new ScrambledZipfianGenerator(0, records + expectedNewKeys);
                _draw = zipfian.Next;
                break;
            case Distribution.Latest:
                var latest = new SkewedLatestGenerator(Inserts);
                _draw = latest.Next;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(distribution), distribution, null);
        }
    }

    /// <summary>Key numbers for inserts during the run; they start after the loaded records.</summary>
    public AcknowledgedCounterGenerator Inserts { get; }

    /// <summary>The key number of the next read or update (YCSB's <c>nextKeynum</c>).</summary>
    public long Next(Rng rng)
    {
        long keyNumber;
        do keyNumber = _draw(rng);
        while (keyNumber > Inserts.LastValue);
        return keyNumber;
    }
}

/// <summary>YCSB's record keys with <c>insertorder=hashed</c>: "user" followed by the FNV-64 hash of the key number in decimal.</summary>
public static class RecordKey
{
    /// <summary>"user" and up to 19 digits.</summary>
    public const int MaxLength = 4 + 19;

    public static int Write(long keyNumber, Span<byte> destination)
    {
        "user"u8.CopyTo(destination);
        if (!Utf8Formatter.TryFormat(Fnv.Hash64(keyNumber), destination[4..], out int digits))
            throw new ArgumentException("the key buffer is too small", nameof(destination));
        return 4 + digits;
    }

    public static string Of(long keyNumber)
    {
        Span<byte> key = stackalloc byte[MaxLength];
        return System.Text.Encoding.ASCII.GetString(key[..Write(keyNumber, key)]);
    }
}
