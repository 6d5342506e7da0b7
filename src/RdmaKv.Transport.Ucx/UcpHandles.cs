using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A UCX object owned by a SafeHandle that keeps its parent (context, worker, endpoint) alive
/// until it is released itself. Every release except the context's must happen while holding the
/// worker (UCS_THREAD_MODE_SERIALIZED): on its progress thread or a driving caller, never from a
/// finalizer; <see cref="UcxWorker"/> disposes what it owns when it stops. The handles are not
/// finalized: one that nobody disposed leaks its UCX object rather than release it on the
/// finalizer thread, inside a worker another thread may be progressing (or after UCX was torn
/// down at process exit).
/// </summary>
abstract class UcpHandle : SafeHandle
{
    readonly SafeHandle? _parent;

    private protected UcpHandle(nint handle, SafeHandle? parent) : base(IntPtr.Zero, ownsHandle: true)
    {
        if (parent is not null)
        {
            bool added = false;
            parent.DangerousAddRef(ref added);
            _parent = parent;
        }
        SetHandle(handle);
        GC.SuppressFinalize(this);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected sealed override bool ReleaseHandle()
    {
        try
        {
            Release(handle);
        }
        finally
        {
            _parent?.DangerousRelease();
        }
        return true;
    }

    private protected abstract void Release(nint value);
}

sealed class UcpContextHandle(nint handle) : UcpHandle(handle, null)
{
    private protected override void Release(nint value) => Ucp.Cleanup(value);
}

sealed class UcpWorkerHandle(nint handle, UcpContextHandle context) : UcpHandle(handle, context)
{
    private protected override void Release(nint value) => Ucp.WorkerDestroy(value);
}

/// <summary>An endpoint; released by a forced close, which completes its outstanding operations with an error.</summary>
sealed unsafe class UcpEndpointHandle(nint handle, UcpWorkerHandle worker) : UcpHandle(handle, worker)
{
    readonly nint _worker = worker.DangerousGetHandle();

    private protected override void Release(nint value)
    {
        var param = new UcpRequestParam { OpAttrMask = Ucp.OpAttrFlags, Flags = Ucp.EpCloseFlagForce };
        nint request = Ucp.EpCloseNbx(value, &param);
        if (request == 0 || Ucp.IsError(request)) return;
        // A forced close completes within a few progress calls; bounded so a release never hangs.
        for (int i = 0; i < 100_000 && Ucp.RequestCheckStatus(request) == 1; i++) Ucp.WorkerProgress(_worker);
        Ucp.RequestFree(request);
    }
}

sealed class UcpMemoryHandle(nint handle, UcpContextHandle context) : UcpHandle(handle, context)
{
    readonly nint _context = context.DangerousGetHandle();

    private protected override void Release(nint value) => Ucp.MemUnmap(_context, value);
}

sealed class UcpRemoteKeyHandle(nint handle, UcpEndpointHandle endpoint) : UcpHandle(handle, endpoint)
{
    private protected override void Release(nint value) => Ucp.RkeyDestroy(value);
}

/// <summary>
/// A UCX call failed; the message names the call and UCX's reason. An I/O error, so callers that
/// handle a lost or refused connection handle it too (ucp_init fails with "No such device" when
/// no network device UCX may use is up).
/// </summary>
public sealed class UcxException(string message) : IOException(message)
{
    public static void Check(int status, string call)
    {
        if (status != 0) throw new UcxException($"{call} failed: {Ucp.Describe(status)}");
    }
}
