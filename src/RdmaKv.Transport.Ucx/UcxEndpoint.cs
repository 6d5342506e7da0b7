using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A server-side endpoint to one peer: sends active messages and closes (forced: what is in
/// flight fails). Use it only on its worker's progress thread.
/// </summary>
public sealed unsafe class UcxEndpoint : IDisposable
{
    readonly Action<nint, int> _onError;
    GCHandle _self;
    UcpEndpointHandle? _handle;

    UcxEndpoint(Action<nint, int> onError) => _onError = onError;

    /// <summary>Identifies the endpoint in <see cref="IFrameReceiver"/> calls (their reply endpoint) and error callbacks.</summary>
    public nint Id { get; private set; }

    /// <summary>
    /// Creates an endpoint to the worker at <paramref name="address"/> (a peer's
    /// ucp_worker_get_address), with peer error handling: when the peer fails or goes away,
    /// <paramref name="onError"/> gets the endpoint's <see cref="Id"/> and the UCX status (on the
    /// progress thread, inside UCX: close the endpoint afterwards, not there). Returns null and the
    /// reason when UCX cannot create it. While holding the worker.
    /// </summary>
    internal static UcxEndpoint? Connect(UcxWorker worker, ReadOnlySpan<byte> address, Action<nint, int> onError, out string? error)
    {
        var endpoint = new UcxEndpoint(onError);
        endpoint._self = GCHandle.Alloc(endpoint);
        nint ep;
        int status;
        fixed (byte* remote = address)
        {
            var p = new UcpEpParams
            {
                FieldMask = Ucp.EpParamRemoteAddress | Ucp.EpParamErrHandlingMode | Ucp.EpParamErrHandler,
                Address = (nint)remote,
                ErrMode = Ucp.ErrHandlingModePeer,
                ErrCallback = (nint)(delegate* unmanaged<nint, nint, int, void>)&OnError,
                ErrArg = GCHandle.ToIntPtr(endpoint._self),
            };
            status = Ucp.EpCreate(worker.RawWorker, &p, &ep);
        }
        if (status != 0)
        {
            endpoint._self.Free();
            error = UcxStatus.Describe(status);
            return null;
        }
        endpoint.Id = ep;
        endpoint._handle = new UcpEndpointHandle(ep, worker.Worker);
        error = null;
        return endpoint;
    }

    [UnmanagedCallersOnly]
    static void OnError(nint arg, nint endpoint, int status)
    {
        try
        {
            ((UcxEndpoint)GCHandle.FromIntPtr(arg).Target!)._onError(endpoint, status);
        }
        catch (Exception e)
        {
            System.Diagnostics.Trace.TraceError($"ucx: endpoint error handler failed: {e}");
        }
    }

    /// <summary>Sends <paramref name="frame"/> as active message <paramref name="amId"/> with <paramref name="requestId"/> in its header; a UCX status, 0 when sent or queued.</summary>
    public int Send(uint amId, ulong requestId, ReadOnlySpan<byte> frame) =>
        _handle is null ? -24 : UcxMessaging.Send(Id, amId, requestId, frame, wantReply: false);

    /// <summary>Sends native memory this call takes over (see <see cref="UcxMessaging.SendOwned"/>).</summary>
    public int SendOwned(uint amId, byte* buffer, int length)
    {
        if (_handle is not null) return UcxMessaging.SendOwned(Id, amId, buffer, length, wantReply: false);
        NativeMemory.Free(buffer);
        return -24; // UCS_ERR_NOT_CONNECTED
    }

    /// <summary>Force-closes the endpoint; on the progress thread, never inside a UCX callback.</summary>
    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (_self.IsAllocated) _self.Free();
    }
}

/// <summary>UCX status codes in words.</summary>
public static class UcxStatus
{
    public static string Describe(int status) => Ucp.Describe(status);
}
