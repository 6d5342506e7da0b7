using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>Work that must run on a worker's progress thread (every UCX call on the worker does).</summary>
public interface IUcxWork
{
    void Run(UcxWorker worker);
}

/// <summary>
/// A UCX context and one worker (UCS_THREAD_MODE_SINGLE), driven by a dedicated progress thread
/// that creates them, runs posted work, progresses, spins for <see cref="UcxWorkerOptions.Spin"/>
/// when idle, then sleeps on the worker's event fd until UCX or a poster wakes it.
/// </summary>
public sealed unsafe class UcxWorker : IDisposable
{
    readonly ConcurrentQueue<IUcxWork> _queue = new();
    readonly Lock _signalLock = new();
    readonly Thread _thread;
    readonly long _spinTicks;
    readonly List<SafeHandle> _owned = [];
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    UcpContextHandle? _context;
    UcpWorkerHandle? _worker;
    nint _workerRaw;
    int _efd = -1;
    int _sleeping;
    volatile bool _stopping;
    bool _signalClosed;

    UcxWorker(string name, UcxWorkerOptions options)
    {
        _spinTicks = (long)(options.Spin.TotalSeconds * Stopwatch.Frequency);
        Name = name;
        _thread = new Thread(() => Loop(options)) { IsBackground = true, Name = "ucx " + name };
    }

    public string Name { get; }
    public UcpContextHandle Context => _context!;
    public UcpWorkerHandle Worker => _worker!;
    internal nint RawWorker => _workerRaw;
    internal nint RawContext => _context!.DangerousGetHandle();
    public bool OnProgressThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

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
        return worker;
    }

    /// <summary>Runs <paramref name="work"/> on the progress thread, waking it if it sleeps.</summary>
    public void Post(IUcxWork work)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _queue.Enqueue(work);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) != 0) Signal();
    }

    /// <summary>Keeps <paramref name="handle"/> until the worker stops, then releases it on the progress thread.</summary>
    public void Own(SafeHandle handle)
    {
        Debug.Assert(OnProgressThread, "owned handles are added on the progress thread");
        _owned.Add(handle);
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
            _started.SetException(e);
            return;
        }
        _started.SetResult();
        long idleSince = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            bool busy = Drain();
            busy |= Ucp.WorkerProgress(_workerRaw) != 0;
            long now = Stopwatch.GetTimestamp();
            if (busy)
            {
                idleSince = now;
                continue;
            }
            if (now - idleSince < _spinTicks) continue;
            Sleep();
            idleSince = Stopwatch.GetTimestamp();
        }
        TearDown();
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

    void Sleep()
    {
        Volatile.Write(ref _sleeping, 1);
        Interlocked.MemoryBarrier();
        try
        {
            if (!_queue.IsEmpty || _stopping) return;
            int status = Ucp.WorkerArm(_workerRaw);
            if (status != 0) return; // UCS_ERR_BUSY: events are pending, progress again
            var fd = new Ucp.PollFd { Fd = _efd, Events = Ucp.PollIn };
            Ucp.Poll(&fd, 1, 100);
        }
        finally
        {
            Volatile.Write(ref _sleeping, 0);
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
                FieldMask = Ucp.ParamFeatures | Ucp.ParamMtWorkersShared,
                Features = Ucp.FeatureRma | Ucp.FeatureAm | Ucp.FeatureWakeup,
                MtWorkersShared = 0,
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
            ThreadMode = Ucp.ThreadModeSingle,
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
        _context!.Dispose();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (OnProgressThread) throw new InvalidOperationException("a UCX worker cannot be disposed from its own progress thread");
        Signal();
        _thread.Join();
    }
}

public sealed record UcxWorkerOptions
{
    /// <summary>How long an idle progress thread busy-polls before it sleeps on the event fd.</summary>
    public TimeSpan Spin { get; init; } = TimeSpan.FromMicroseconds(200);

    /// <summary>Runs on the progress thread right after the worker exists (register handlers here).</summary>
    public Action<UcxWorker>? OnCreated { get; init; }
}
