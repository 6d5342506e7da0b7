using HdrHistogram;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench.Results;

/// <summary>Latency of successful operations, in microseconds.</summary>
public sealed record LatencySummary(double MeanUs, double P50Us, double P95Us, double P99Us, double P999Us, double MaxUs)
{
    public static LatencySummary From(HistogramBase histogram, long maxNanoseconds)
    {
        if (histogram.TotalCount == 0) return new LatencySummary(0, 0, 0, 0, 0, 0);
        static double Us(double ns) => Math.Round(ns / 1000.0, 3);
        // A percentile is the highest value of its histogram bucket (within 0.1%), which can pass the exact maximum.
        double At(double percentile) => Us(Math.Min(histogram.GetValueAtPercentile(percentile), maxNanoseconds));
        return new LatencySummary(Us(histogram.GetMean()), At(50), At(95), At(99), At(99.9), Us(maxNanoseconds));
    }
}

/// <summary>
/// One operation type's figures in a phase. <see cref="Operations"/> counts every attempt:
/// <see cref="Succeeded"/> plus <see cref="Errors"/>. Throughput counts successes per second of
/// the phase. Retries is null when the store's client reports none.
/// </summary>
public sealed record OperationResult(
    string Operation,
    long Operations,
    long Succeeded,
    long Errors,
    long? Retries,
    double Throughput,
    LatencySummary Latency,
    IReadOnlyDictionary<string, long> ErrorMessages);

/// <summary>A phase (load or run): its wall time, each operation type, and all operations together.</summary>
public sealed record PhaseResult(
    string Phase,
    double ElapsedSeconds,
    bool StoppedByDuration,
    bool Interrupted,
    IReadOnlyList<OperationResult> ByOperation,
    OperationResult Total)
{
    public static string Name(Operation operation) => operation switch
    {
        Operation.Insert => "INSERT",
        Operation.Read => "READ",
        Operation.Update => "UPDATE",
        Operation.ReadModifyWrite => "READ-MODIFY-WRITE",
        _ => operation.ToString(),
    };

    /// <summary>Merges the worker threads' recorders.</summary>
    public static PhaseResult From(string phase, double elapsedSeconds, IReadOnlyList<OperationRecorder> recorders,
        bool retriesReported, bool stoppedByDuration = false, bool interrupted = false)
    {
        var total = new OperationRecorder.OperationStats();
        var byOperation = new List<OperationResult>();
        foreach (var group in recorders.SelectMany(r => r.Recorded()).GroupBy(x => x.Operation).OrderBy(g => g.Key))
        {
            var merged = new OperationRecorder.OperationStats();
            foreach (var (_, s) in group) Merge(merged, s);
            Merge(total, merged);
            byOperation.Add(ToResult(Name(group.Key), merged, elapsedSeconds, retriesReported));
        }
        return new PhaseResult(phase, elapsedSeconds, stoppedByDuration, interrupted, byOperation,
            ToResult("ALL", total, elapsedSeconds, retriesReported));
    }

    static void Merge(OperationRecorder.OperationStats into, OperationRecorder.OperationStats from)
    {
        into.Histogram.Add(from.Histogram);
        into.Count += from.Count;
        into.Errors += from.Errors;
        into.Retries += from.Retries;
        into.MaxNanoseconds = Math.Max(into.MaxNanoseconds, from.MaxNanoseconds);
        foreach (var (message, n) in from.ErrorMessages)
        {
            if (into.ErrorMessages.TryGetValue(message, out long m)) into.ErrorMessages[message] = m + n;
            else if (into.ErrorMessages.Count < OperationRecorder.ErrorSamples) into.ErrorMessages[message] = n;
        }
    }

    static OperationResult ToResult(string name, OperationRecorder.OperationStats s, double elapsedSeconds, bool retriesReported) =>
        new(name, s.Count + s.Errors, s.Count, s.Errors, retriesReported ? s.Retries : null,
            elapsedSeconds > 0 ? Math.Round(s.Count / elapsedSeconds, 1) : 0,
            LatencySummary.From(s.Histogram, s.MaxNanoseconds),
            new SortedDictionary<string, long>(s.ErrorMessages, StringComparer.Ordinal));
}
