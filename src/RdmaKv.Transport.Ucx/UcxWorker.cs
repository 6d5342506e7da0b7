using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A UCX context and one worker (UCS_THREAD_MODE_SERIALIZED), driven by a dedicated progress
/// thread that creates them, runs posted work, progresses, spins for
/// <see cref="UcxWorkerOptions.Spin"/> when idle, then sleeps on the worker's event fd until UCX
/// or a poster wakes it. A caller that waits for its own operation may drive the worker itself
/// (<see cref="Drive"/>): every UCX call happens under one gate, so only one thread at a time
/// touches the worker, and a caller that drives saves two thread wake-ups per round trip.
/// </summary>
public sealed unsafe partial class UcxWorker : IDisposable
{
    const int Awake = 0, Polling = 1, Lingering = 2;
    readonly ConcurrentQueue<IUcxWork> _queue = new();
    readonly Lock _gate = new();
    readonly Lock _signalLock = new();
    readonly ManualResetEventSlim _nudge = new(false, 0);
    readonly long _lingerTicks = Stopwatch.Frequency / 100; // 10 ms
    readonly Thread _thread;
    readonly long _spinTicks;
    readonly List<SafeHandle> _owned = [];
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    static readonly HashSet<UcxWorker> s_live = [];
    static bool s_exitHooked;
    UcpContextHandle? _context;
    UcpWorkerHandle? _worker;
    nint _workerRaw;
    int _efd = -1;
    int _sleeping;
    int _blocked;
    int _driving;
    long _drivenAt = long.MinValue / 2;
    volatile bool _stopping;
    bool _destroyed;
    bool _signalClosed;

    UcxWorker(string name, UcxWorkerOptions options)
    {
        _spinTicks = (long)(options.Spin.TotalSeconds * Stopwatch.Frequency);
        Name = name;
        _thread = new Thread(() => Loop(options)) { IsBackground = true, Name = "ucx " + name };
    }

    public string Name { get; }
    internal UcpContextHandle Context => _context!;
    internal UcpWorkerHandle Worker => _worker!;
    internal nint RawWorker => _workerRaw;
    internal nint RawContext => _context!.DangerousGetHandle();
    /// <summary>True while its progress thread runs and nobody has asked it to stop.</summary>
    public bool Running => !_stopping && _thread.IsAlive;

    public bool OnProgressThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>True on the thread that holds the worker now: the progress thread or a driving caller.</summary>
    public bool IsDriving => _gate.IsHeldByCurrentThread;

    /// <summary>Called on the progress thread before the worker is destroyed (close endpoints there).</summary>
    public event Action<UcxWorker>? Stopping;

    public static UcxWorker Start(string name, UcxWorkerOptions? options = null)
    {
        UcxEnvironment.Prepare();
        var worker = new UcxWorker(name, options ?? new UcxWorkerOptions());
        worker._thread.Start();
        // The thread's own start-up fails here rather than later; UCX start-up is bounded by UCX itself.
#pragma warning disable VSTHRD002 // start-up is synchronous by design
        worker._started.Task.GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        lock (s_live)
        {
            if (!s_exitHooked)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAllAtExit();
                s_exitHooked = true;
            }
            if (!worker._stopping) s_live.Add(worker);
        }
        return worker;
    }

    /// <summary>The worker's address, which a peer's endpoint is created with (see <see cref="UcxHandshake"/>); while holding the worker.</summary>
    public byte[] Address()
    {
        Debug.Assert(IsDriving, "the address is read while holding the worker");
        nint address;
        nuint length;
        UcxException.Check(Ucp.WorkerGetAddress(_workerRaw, &address, &length), "ucp_worker_get_address");
        try
        {
            return new ReadOnlySpan<byte>((void*)address, checked((int)length)).ToArray();
        }
        finally
        {
            Ucp.WorkerReleaseAddress(_workerRaw, address);
        }
    }

    /// <summary>Reads the worker's address on the progress thread.</summary>
    public Task<byte[]> AddressAsync()
    {
        var work = new AddressWork();
        Post(work);
        return work.Done.Task;
    }

    sealed class AddressWork : IUcxWork
    {
        public readonly TaskCompletionSource<byte[]> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(UcxWorker worker)
        {
            try
            {
                Done.SetResult(worker.Address());
            }
            catch (Exception e)
            {
                Done.SetException(e);
            }
        }
    }

    /// <summary>Keeps <paramref name="handle"/> until the worker stops, then releases it on the progress thread.</summary>
    public void Own(SafeHandle handle)
    {
        Debug.Assert(IsDriving, "owned handles are added while holding the worker");
        _owned.Add(handle);
    }

    void Wake()
    {
        int sleeping = Volatile.Read(ref _sleeping);
        if (sleeping == Polling) Signal();
        else if (sleeping == Lingering) _nudge.Set();
    }

    void Signal()
    {
        lock (_signalLock)
        {
            if (!_signalClosed) Ucp.WorkerSignal(_workerRaw);
        }
    }

    void Loop(UcxWorkerOptions options)
    {
        try
        {
            Create(options);
        }
        catch (Exception e)
        {
            // The thread ends here: what was made before the failure is released now, on it.
            for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
            _worker?.Dispose();
            _context?.Dispose();
            _started.SetException(e);
            return;
        }
        _started.SetResult();
        long idleSince = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            bool busy;
            lock (_gate)
            {
                busy = Drain();
                busy |= Ucp.WorkerProgress(_workerRaw) != 0;
            }
            long now = Stopwatch.GetTimestamp();
            if (busy)
            {
                idleSince = now;
                continue;
            }
            if (now - idleSince < _spinTicks) continue;
            // While callers drive the worker, the event fd fires for their own completions; the
            // thread would wake for each one. It waits on a timer (and for posts) instead.
            if (Volatile.Read(ref _blocked) == 0 && now - Volatile.Read(ref _drivenAt) < _lingerTicks) Linger();
            else Sleep();
            idleSince = Stopwatch.GetTimestamp();
        }
        TearDown();
        lock (s_live) s_live.Remove(this);
    }

    bool Drain()
    {
        bool any = false;
        while (_queue.TryDequeue(out var work))
        {
            any = true;
            try
            {
                work.Run(this);
            }
            catch (Exception e)
            {
                // Work reports its own failures to whoever waits for it; this is a bug guard.
                Trace.TraceError($"ucx {Name}: posted work failed: {e}");
            }
        }
        return any;
    }

    void Linger()
    {
        Volatile.Write(ref _sleeping, Lingering);
        Interlocked.MemoryBarrier();
        try
        {
            if (!_queue.IsEmpty || _stopping || Volatile.Read(ref _blocked) != 0) return;
            _nudge.Wait(1);
            _nudge.Reset();
        }
        finally
        {
            Volatile.Write(ref _sleeping, Awake);
        }
    }

    void Sleep()
    {
        Volatile.Write(ref _sleeping, Polling);
        Interlocked.MemoryBarrier();
        try
        {
            if (!_queue.IsEmpty || _stopping) return;
            int status;
            lock (_gate) status = Ucp.WorkerArm(_workerRaw);
            if (status != 0) return; // UCS_ERR_BUSY: events are pending, progress again
            var fd = new Ucp.PollFd { Fd = _efd, Events = Ucp.PollIn };
            Ucp.Poll(&fd, 1, 100);
        }
        finally
        {
            Volatile.Write(ref _sleeping, Awake);
        }
    }

    void Create(UcxWorkerOptions options)
    {
        nint config;
        UcxException.Check(Ucp.ConfigRead(null, null, &config), "ucp_config_read");
        nint context;
        try
        {
            var p = new UcpParams
            {
                FieldMask = Ucp.ParamFeatures | Ucp.ParamMtWorkersShared | (options.EstimatedEndpoints > 0 ? Ucp.ParamEstimatedNumEps : 0),
                Features = (options.Rma ? Ucp.FeatureRma : 0) | Ucp.FeatureAm | Ucp.FeatureWakeup,
                MtWorkersShared = 0,
                EstimatedNumEps = (nuint)Math.Max(options.EstimatedEndpoints, 0),
            };
            UcxException.Check(Ucp.InitVersion(Ucp.ApiMajor, Ucp.ApiMinor, &p, config, &context), "ucp_init");
        }
        finally
        {
            Ucp.ConfigRelease(config);
        }
        _context = new UcpContextHandle(context);
        var wp = new UcpWorkerParams
        {
            FieldMask = Ucp.WorkerParamThreadMode | Ucp.WorkerParamEvents,
            ThreadMode = Ucp.ThreadModeSerialized,
            Events = Ucp.WakeupRma | Ucp.WakeupTx | Ucp.WakeupRx,
        };
        nint worker;
        UcxException.Check(Ucp.WorkerCreate(context, &wp, &worker), "ucp_worker_create");
        _worker = new UcpWorkerHandle(worker, _context);
        _workerRaw = worker;
        int efd;
        UcxException.Check(Ucp.WorkerGetEfd(worker, &efd), "ucp_worker_get_efd");
        _efd = efd;
        options.OnCreated?.Invoke(this);
    }

    void TearDown()
    {
        lock (_gate)
        {
            try
            {
                Drain();
                Stopping?.Invoke(this);
            }
            catch (Exception e)
            {
                Trace.TraceError($"ucx {Name}: stopping failed: {e}");
            }
            for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
            lock (_signalLock)
            {
                _signalClosed = true;
                _worker!.Dispose();
            }
            _destroyed = true;
            _context!.Dispose();
        }
    }

    /// <summary>
    /// Stops every worker still running when the process exits, before libc runs UCX's library
    /// destructors: a progress thread still inside UCX while they tear UCX's globals down would
    /// crash the exit. Bounded, so a stuck worker cannot hold the exit.
    /// </summary>
    static void StopAllAtExit()
    {
        UcxWorker[] live;
        lock (s_live) live = [.. s_live];
        foreach (var worker in live)
        {
            if (worker._stopping || worker.OnProgressThread) continue;
            worker._stopping = true;
            worker.Signal();
            worker._nudge.Set();
        }
        foreach (var worker in live)
        {
            if (!worker.OnProgressThread) worker._thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (OnProgressThread) throw new InvalidOperationException("a UCX worker cannot be disposed from its own progress thread");
        Signal();
        _nudge.Set();
        _thread.Join();
    }
}
