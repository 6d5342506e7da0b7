using System.Diagnostics;
using RdmaKv.Bench.Results;
using RdmaKv.Bench.Stores;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench;

/// <summary>
/// Runs YCSB's two phases against a store with dedicated worker threads, each with its own
/// session and random stream: load inserts every record once; run draws the workload's mix.
/// Closed loop, as YCSB without a target rate: each thread issues its next operation when the
/// previous one returns. Only the store call is timed.
/// </summary>
public sealed class BenchRunner(BenchSettings settings, IBenchStore store, IProgressView progress)
{
    static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    readonly Workload _workload = settings.ParsedWorkload;

    /// <summary>Inserts records 0 .. Records - 1 (YCSB's load phase; the threads share one counter).</summary>
    public PhaseResult Load(CancellationToken cancel)
    {
        var next = new CounterGenerator(0);
        return RunPhase("load", settings.Records, durationSeconds: 0, cancel, (thread, session, recorder, done, _) =>
        {
            var rng = new Rng(Rng.StreamSeed(settings.Seed, 1_000_000 + thread));
            Span<byte> key = stackalloc byte[RecordKey.MaxLength];
            var value = new byte[settings.RecordBytes];
            long n = 0;
            for (long keyNumber = next.Next(); keyNumber < settings.Records; keyNumber = next.Next())
            {
                if (cancel.IsCancellationRequested) return false;
                int keyLength = RecordKey.Write(keyNumber, key);
                rng.FillPrintable(value);
                Insert(session, recorder, key[..keyLength], value);
                if ((++n & 63) == 0) Interlocked.Add(ref done.Value, 64);
            }
            return false;
        });
    }

    /// <summary>The workload's mix: Operations in all, split over the threads, or until the duration is up.</summary>
    public PhaseResult Run(CancellationToken cancel)
    {
        var chooser = new KeyChooser(settings.RequestDistribution, settings.Records, settings.Operations, _workload.Insert);
        return RunPhase("run", settings.Operations, settings.DurationSeconds, cancel, (thread, session, recorder, done, deadline) =>
        {
            long share = settings.Operations / settings.Threads + (thread < settings.Operations % settings.Threads ? 1 : 0);
            var rng = new Rng(Rng.StreamSeed(settings.Seed, thread));
            var worker = new RunWorker(settings, _workload, chooser, session, recorder, rng);
            for (long i = 0; i < share; i++)
            {
                if (cancel.IsCancellationRequested) return false;
                if (worker.Step() > deadline) return true;
                if ((i & 63) == 63) Interlocked.Add(ref done.Value, 64);
            }
            return false;
        });
    }

    static void Insert(IStoreSession session, OperationRecorder recorder, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        long? retries = session.Retries;
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            session.Write(key, value);
            long t1 = Stopwatch.GetTimestamp();
            recorder.Success(Operation.Insert, Nanoseconds(t0, t1), Delta(session, retries));
        }
        catch (Exception e)
        {
            recorder.Failure(Operation.Insert, Describe(e), Delta(session, retries));
        }
    }

    internal static long Nanoseconds(long t0, long t1) => (long)((t1 - t0) * NanosecondsPerTick);

    internal static long Delta(IStoreSession session, long? before) => session.Retries is { } now && before is { } b ? now - b : 0;

    internal static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    /// <summary>A worker's body: returns true when it stopped because the duration was up.</summary>
    delegate bool Body(int thread, IStoreSession session, OperationRecorder recorder, StrongBox done, long deadline);

    /// <summary>A counter the workers add to and the progress view reads.</summary>
    sealed class StrongBox
    {
        public long Value;
    }

    /// <summary>Starts the threads, lets them open their sessions, then releases them together and times the phase.</summary>
    PhaseResult RunPhase(string phase, long total, double durationSeconds, CancellationToken cancel, Body body)
    {
        int threads = settings.Threads;
        var recorders = new OperationRecorder[threads];
        var stoppedByDuration = new bool[threads];
        var failures = new Exception?[threads];
        var retriesReported = new bool[threads];
        long deadline = long.MaxValue;
        var done = new StrongBox();
        using var ready = new CountdownEvent(threads);
        using var gate = new ManualResetEventSlim();
        using var finished = new CountdownEvent(threads);
        bool abort = false;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int thread = t;
            recorders[t] = new OperationRecorder();
            workers[t] = new Thread(() =>
            {
                IStoreSession? session = null;
                try
                {
                    try
                    {
                        session = store.OpenSession();
                        retriesReported[thread] = session.Retries is not null;
                    }
                    finally
                    {
                        ready.Signal();
                    }
                    gate.Wait(CancellationToken.None);
                    if (!Volatile.Read(ref abort)) stoppedByDuration[thread] = body(thread, session, recorders[thread], done, deadline);
                }
                catch (Exception e)
                {
                    failures[thread] = e;
                }
                finally
                {
                    session?.Dispose();
                    finished.Signal();
                }
            })
            {
                IsBackground = true,
                Name = $"bench-{phase}-{thread}",
            };
            workers[t].Start();
        }

        ready.Wait(CancellationToken.None);
        if (failures.FirstOrDefault(f => f is not null) is { } openFailed)
        {
            Volatile.Write(ref abort, true);
            gate.Set();
            foreach (var w in workers) w.Join();
            throw openFailed;
        }
        long start = Stopwatch.GetTimestamp();
        if (durationSeconds > 0) deadline = start + (long)(durationSeconds * Stopwatch.Frequency);
        gate.Set();
        progress.Watch($"{phase} {_workload.Name}", total, () => Volatile.Read(ref done.Value), finished.WaitHandle);
        foreach (var w in workers) w.Join();
        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (failures.FirstOrDefault(f => f is not null) is { } failed) throw failed;
        return PhaseResult.From(phase, elapsed, recorders, retriesReported.All(r => r),
            stoppedByDuration.Any(s => s), cancel.IsCancellationRequested);
    }
}
