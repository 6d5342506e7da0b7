using System.Collections.Concurrent;
using System.Diagnostics;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// Threads that put, get and delete through one shared client until stopped, noting per thread
/// when a call last succeeded and when one last failed on the connection. Tests wait on those
/// events (every thread succeeded, or failed, after a moment) rather than on time.
/// </summary>
sealed class SharedLoad
{
    readonly KvClient _client;
    readonly Thread[] _threads;
    readonly long[] _lastSuccess;
    readonly long[] _lastFailure;
    volatile bool _stop;

    public SharedLoad(KvClient client, int threads)
    {
        _client = client;
        _lastSuccess = new long[threads];
        _lastFailure = new long[threads];
        _threads = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            _threads[t] = new Thread(() => Run(id)) { IsBackground = true, Name = $"shared-load-{t}" };
            _threads[t].Start();
        }
    }

    /// <summary>Calls that failed with anything but the client's own exceptions (a bug: the node is the only thing that goes away).</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    void Run(int id)
    {
        for (long i = 0; !_stop; i++)
        {
            string key = $"t{id}-k{i % 16}";
            try
            {
                switch (i % 3)
                {
                    case 0: _client.Put(key, $"v{i}"); break;
                    case 1: _client.Get(key); break;
                    default: _client.Delete(key); break;
                }
                Volatile.Write(ref _lastSuccess[id], Stopwatch.GetTimestamp());
            }
            catch (Exception e) when (e is KvConnectionException or KvException)
            {
                // The node went away, or said it is going (a clean stop refuses new requests).
                Volatile.Write(ref _lastFailure[id], Stopwatch.GetTimestamp());
            }
            catch (Exception e)
            {
                Unexpected.Enqueue($"thread {id}: {e.GetType().Name}: {e.Message}");
                Volatile.Write(ref _lastFailure[id], Stopwatch.GetTimestamp());
            }
        }
    }

    public void WaitForSuccessesAfterNow() => WaitForAll(_lastSuccess, "succeed");

    public void WaitForFailuresAfterNow() => WaitForAll(_lastFailure, "fail");

    void WaitForAll(long[] events, string what)
    {
        long now = Stopwatch.GetTimestamp();
        var waited = Stopwatch.StartNew();
        while (events.Any(e => e <= now))
        {
            Assert.True(waited.Elapsed < 2 * Binaries.Patience,
                $"{events.Count(e => e <= now)} of {events.Length} threads did not {what} within {2 * Binaries.Patience}");
            Thread.Sleep(5);
        }
    }

    public void Stop()
    {
        _stop = true;
        foreach (var t in _threads) Assert.True(t.Join(2 * Binaries.Patience), $"{t.Name} did not stop");
    }
}
