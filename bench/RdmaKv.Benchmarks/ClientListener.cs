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

    /// <summary>The listener <paramref name="mode"/> asks for: <c>none</c> (the default) or <c>meter</c>.</summary>
    public static ClientListener? Start(string mode) => mode switch
    {
        "none" => null,
        "meter" => new ClientListener(),
        _ => throw new ArgumentException("listen= is none or meter"),
    };

    public void Dispose() => _listener.Dispose();
}
