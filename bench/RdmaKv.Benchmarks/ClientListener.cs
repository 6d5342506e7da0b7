using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RdmaKv.Benchmarks;

/// <summary>
/// <c>listen=meter</c>: a <see cref="MeterListener"/> on the client's meter that adds up every
/// measurement, the least any metrics SDK does per measurement, to time the GET path with its
/// instruments enabled. By name, so that it builds against a client that has no meter (it then
/// listens to nothing: the baseline).
/// </summary>
sealed class ClientListener : IDisposable
{
    readonly MeterListener _listener = new();
    long _measurements;

    ClientListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "RdmaKv.Client") listener.EnableMeasurementEvents(instrument, this);
        };
        _listener.SetMeasurementEventCallback<long>(static (_, _, _, state) => ((ClientListener)state!)._measurements++);
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, state) => ((ClientListener)state!)._measurements++);
        _listener.Start();
    }

    /// <summary>Measurements seen so far (one client thread measures; a count, not a synchronized one).</summary>
    public long Measurements => Volatile.Read(ref _measurements);

    /// <summary>The listener <paramref name="mode"/> asks for: <c>none</c> (the default), <c>meter</c>, or <c>alternate</c> (none, then <see cref="Alternate"/>).</summary>
    public static ClientListener? Start(string mode) => mode switch
    {
        "none" or "alternate" => null,
        "meter" => new ClientListener(),
        _ => throw new ArgumentException("listen= is none, meter or alternate"),
    };

    /// <summary>
    /// <c>listen=alternate</c>: quarter-second windows without and with a listener, interleaved in
    /// one process, so that both halves see the same load on a shared machine; each window also
    /// times 20,000 single operations.
    /// </summary>
    public static void Alternate(Func<bool> op, int seconds)
    {
        List<double>[] rates = [[], []];
        List<long>[] latencies = [[], []];
        long measurements = 0;
        for (int w = 0; w < 8 * seconds; w++)
        {
            int on = w & 1;
            using var listener = on == 1 ? new ClientListener() : null;
            long n = 0;
            var window = Stopwatch.StartNew();
            while (window.ElapsedTicks < Stopwatch.Frequency / 4)
            {
                for (int i = 0; i < 1000; i++) op();
                n += 1000;
            }
            rates[on].Add(n / window.Elapsed.TotalSeconds);
            for (int i = 0; i < 20_000; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                op();
                latencies[on].Add(Stopwatch.GetTimestamp() - t0);
            }
            measurements += listener?.Measurements ?? 0;
        }
        for (int on = 0; on < 2; on++)
        {
            rates[on].Sort();
            latencies[on].Sort();
            double us(double q) => latencies[on][(int)(q * (latencies[on].Count - 1))] * 1e6 / Stopwatch.Frequency;
            Console.WriteLine($"alternate, listener {(on == 1 ? "on " : "off")}: median {rates[on][rates[on].Count / 2]:N0} ops/s over {rates[on].Count} windows; " +
                $"latency p50 {us(0.5):F3} us, p90 {us(0.9):F3} us, p99 {us(0.99):F3} us");
        }
        Console.WriteLine($"alternate: {measurements:N0} measurements of the client's meter while on");
    }

    public void Dispose() => _listener.Dispose();
}
