using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// One request or READ that a caller's thread waits for while the worker carries it out (driven
/// by the caller itself, another caller, or the progress thread). If the caller gives up
/// (timeout), the operation is abandoned and whoever completes it later frees its native buffer,
/// so no late completion can write into memory the caller has moved on from.
/// </summary>
public sealed unsafe class UcxOperation : IDisposable
{
    const int Pending = 0, Done = 1, Abandoned = 2;
    readonly ManualResetEventSlim _done = new(false, 0);
    GCHandle _self;
    int _state = Done;
    int _outstanding;

    public byte* Buffer { get; private set; }
    public int Capacity { get; private set; }

    /// <summary>UCX status of the first failed part, or 0.</summary>
    public int Status { get; private set; }

    /// <summary>Identifies this operation to UCX callbacks (user_data).</summary>
    public nint Cookie
    {
        get
        {
            if (!_self.IsAllocated) _self = GCHandle.Alloc(this);
            return GCHandle.ToIntPtr(_self);
        }
    }

    public static UcxOperation FromCookie(nint cookie) => (UcxOperation)GCHandle.FromIntPtr(cookie).Target!;

    /// <summary>True once every part has completed (or the operation is not in use).</summary>
    public bool IsFinished => Volatile.Read(ref _state) != Pending;

    /// <summary>A reply frame, for request operations.</summary>
    public byte[]? Reply { get; set; }

    /// <summary>Prepares for a new use with <paramref name="parts"/> completions to wait for and room for <paramref name="bytes"/>.</summary>
    public void Begin(int parts, int bytes)
    {
        Debug.Assert(_state != Pending, "an operation is reused only after it finished");
        if (bytes > Capacity)
        {
            NativeMemory.Free(Buffer);
            Capacity = Math.Max(bytes, 4096);
            Buffer = (byte*)NativeMemory.Alloc((nuint)Capacity);
        }
        Status = 0;
        Reply = null;
        _outstanding = parts;
        _done.Reset();
        Volatile.Write(ref _state, Pending);
    }

    /// <summary>Called by whoever holds the worker as each part finishes.</summary>
    public void Complete(int status)
    {
        if (status != 0 && Status == 0) Status = status;
        if (Interlocked.Decrement(ref _outstanding) > 0) return;
        if (Interlocked.CompareExchange(ref _state, Done, Pending) == Pending) _done.Set();
        else Free(); // the caller gave up on it
    }

    /// <summary>True when finished in time; false when abandoned (the caller must not reuse it).</summary>
    public bool Wait(TimeSpan timeout, TimeSpan spin)
    {
        long start = Stopwatch.GetTimestamp();
        long spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
        while (Volatile.Read(ref _state) == Pending && Stopwatch.GetTimestamp() - start < spinTicks) Thread.SpinWait(8);
        if (Volatile.Read(ref _state) == Pending)
        {
            var left = timeout - Stopwatch.GetElapsedTime(start);
            if (left > TimeSpan.Zero) _done.Wait(left);
        }
        if (Volatile.Read(ref _state) == Done) return true;
        return Interlocked.CompareExchange(ref _state, Abandoned, Pending) != Pending;
    }

    void Free()
    {
        NativeMemory.Free(Buffer);
        Buffer = null;
        Capacity = 0;
        if (_self.IsAllocated) _self.Free();
        _done.Dispose();
    }

    public void Dispose()
    {
        if (Volatile.Read(ref _state) != Pending) Free();
    }
}
