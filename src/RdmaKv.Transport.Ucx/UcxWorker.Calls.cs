using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// How other threads hand the worker work: posting it to the progress thread, running it
/// themselves when no thread is in the worker, or driving the worker until their operation ends.
/// </summary>
public sealed unsafe partial class UcxWorker
{
    /// <summary>Runs <paramref name="work"/> on the progress thread, waking it if it sleeps.</summary>
    public void Post(IUcxWork work)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _queue.Enqueue(work);
        Interlocked.MemoryBarrier();
        Wake();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the calling thread when no thread is in the worker (then
    /// progresses it once, so a send goes out), else posts it to the progress thread: a reply from
    /// another thread then costs no wake-up of the progress thread.
    /// </summary>
    public void RunOrPost(IUcxWork work)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (_gate.TryEnter())
        {
            try
            {
                if (!_destroyed)
                {
                    work.Run(this);
                    Ucp.WorkerProgress(_workerRaw);
                    return;
                }
            }
            finally
            {
                _gate.Exit();
            }
        }
        Post(work);
    }

    /// <summary>
    /// Runs <paramref name="work"/> and progresses the worker on the calling thread until
    /// <paramref name="operation"/> finishes or <paramref name="spin"/> has passed; true when it
    /// finished. One caller drives at a time: when another already does, this returns false at
    /// once (that caller's progress completes this operation too; two spinning callers on a small
    /// machine take turns instead of working). When this returns false, the caller calls
    /// <see cref="Block"/> before it waits, so that the progress thread carries on.
    /// </summary>
    public bool Drive(IUcxWork work, UcxOperation operation, TimeSpan spin)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        long start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _drivenAt, start);
        _queue.Enqueue(work);
        if (Interlocked.CompareExchange(ref _driving, 1, 0) != 0) return false;
        try
        {
            long spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                if (_gate.TryEnter())
                {
                    try
                    {
                        if (_destroyed) return operation.IsFinished;
                        Drain();
                        if (!operation.IsFinished) Ucp.WorkerProgress(_workerRaw);
                    }
                    finally
                    {
                        _gate.Exit();
                    }
                }
                if (operation.IsFinished) return true;
                if (Stopwatch.GetTimestamp() - start >= spinTicks) return false;
                Thread.SpinWait(4);
            }
        }
        finally
        {
            Volatile.Write(ref _driving, 0);
            Interlocked.MemoryBarrier();
            // A worker armed before this caller's progress may not wake its event fd for what
            // arrives next; blocked callers rely on the progress thread, so it re-arms now.
            if (Volatile.Read(ref _blocked) != 0) Wake();
        }
    }

    /// <summary>
    /// Marks the calling thread as blocked on an operation until the returned scope ends: the
    /// progress thread then sleeps on the event fd (it wakes for completions) rather than leaving
    /// progress to driving callers.
    /// </summary>
    public BlockScope Block()
    {
        Interlocked.Increment(ref _blocked);
        Wake();
        return new BlockScope(this);
    }

    public readonly struct BlockScope(UcxWorker worker) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref worker._blocked);
    }
}
