namespace RdmaKv.Bench.Ycsb;

/// <summary>YCSB's CounterGenerator: start, start + 1, ... across all threads.</summary>
public class CounterGenerator(long start)
{
    long _next = start;

    public long Next() => Interlocked.Increment(ref _next) - 1;

    /// <summary>The last value handed out (YCSB's <c>lastValue()</c>): start - 1 before the first.</summary>
    public virtual long LastValue => Volatile.Read(ref _next) - 1;
}

/// <summary>
/// YCSB's AcknowledgedCounterGenerator: hands out insert key numbers; <see cref="LastValue"/> is
/// the highest number below which every insert has been acknowledged, so readers choosing among
/// "existing" keys never pick one whose insert is still in flight.
/// </summary>
public sealed class AcknowledgedCounterGenerator : CounterGenerator
{
    /// <summary>YCSB's window: at most this many inserts may be handed out and not acknowledged.</summary>
    public const int WindowSize = 1 << 20;
    const int WindowMask = WindowSize - 1;

    readonly bool[] _window = new bool[WindowSize];
    readonly object _lock = new();
    long _limit;

    public AcknowledgedCounterGenerator(long start) : base(start) => _limit = start - 1;

    public override long LastValue => Volatile.Read(ref _limit);

    /// <summary>Marks <paramref name="value"/> inserted; advances the limit over every contiguous acknowledged value.</summary>
    public void Acknowledge(long value)
    {
        lock (_lock)
        {
            int slot = (int)(value & WindowMask);
            if (value <= _limit || _window[slot])
                throw new InvalidOperationException($"insert {value} acknowledged twice, or more than {WindowSize} inserts are unacknowledged");
            _window[slot] = true;
            long index = _limit + 1;
            while (_window[(int)(index & WindowMask)])
            {
                _window[(int)(index & WindowMask)] = false;
                index++;
            }
            Volatile.Write(ref _limit, index - 1);
        }
    }
}
