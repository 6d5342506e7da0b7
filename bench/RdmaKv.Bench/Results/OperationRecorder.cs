using HdrHistogram;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench.Results;

/// <summary>
/// One worker thread's record of its operations: per operation type a latency histogram of the
/// successful ones (nanoseconds, three significant digits), the exact maximum, and counts of
/// successes, errors and retries. Not thread-safe: one per thread, merged when the phase ends.
/// </summary>
public sealed class OperationRecorder
{
    /// <summary>The histograms' range: 1 ns to 100 s.</summary>
    public const long HighestNanoseconds = 100_000_000_000L;

    /// <summary>Distinct error messages kept per operation type; the rest are only counted.</summary>
    public const int ErrorSamples = 5;

    readonly OperationStats?[] _stats = new OperationStats?[Enum.GetValues<Operation>().Length];

    public void Success(Operation operation, long nanoseconds, long retries)
    {
        var s = Stats(operation);
        s.Count++;
        s.Retries += retries;
        long clamped = Math.Clamp(nanoseconds, 1, HighestNanoseconds);
        s.Histogram.RecordValue(clamped);
        if (nanoseconds > s.MaxNanoseconds) s.MaxNanoseconds = nanoseconds;
    }

    public void Failure(Operation operation, string message, long retries)
    {
        var s = Stats(operation);
        s.Errors++;
        s.Retries += retries;
        if (s.ErrorMessages.TryGetValue(message, out long n)) s.ErrorMessages[message] = n + 1;
        else if (s.ErrorMessages.Count < ErrorSamples) s.ErrorMessages[message] = 1;
    }

    OperationStats Stats(Operation operation) => _stats[(int)operation] ??= new OperationStats();

    internal IEnumerable<(Operation Operation, OperationStats Stats)> Recorded()
    {
        for (int i = 0; i < _stats.Length; i++)
            if (_stats[i] is { } s) yield return ((Operation)i, s);
    }

    internal sealed class OperationStats
    {
        public readonly LongHistogram Histogram = new(1, HighestNanoseconds, 3);
        public readonly Dictionary<string, long> ErrorMessages = new(StringComparer.Ordinal);
        public long Count;
        public long Errors;
        public long Retries;
        public long MaxNanoseconds;
    }
}
