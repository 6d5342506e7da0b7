using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>Receives whole frames that arrived as active messages, on whichever thread holds the worker.</summary>
public interface IFrameReceiver
{
    /// <summary><paramref name="frame"/> is valid only during the call; <paramref name="id"/> is the request id from the message header (0 when it had none).</summary>
    void Receive(UcxWorker worker, nint replyEndpoint, ulong id, ReadOnlySpan<byte> frame);

    /// <summary>A message longer than the receiver's limit was dropped unread.</summary>
    void Oversized(UcxWorker worker, nint replyEndpoint, ulong id, ulong length);
}

/// <summary>
/// Frames over UCX active messages: one AM id per direction, the request id in the 8-byte AM
/// header (so this layer matches replies without knowing what a frame holds). Small messages
/// arrive inline (eager); large ones as rendezvous descriptors fetched with
/// ucp_am_recv_data_nbx. Every send copies its frame into native memory that lives until UCX
/// says the send completed.
/// </summary>
public static unsafe class UcxMessaging
{
    public const uint RequestId = 1;
    public const uint ReplyId = 2;

    /// <summary>Registers <paramref name="receiver"/> for <paramref name="id"/>, dropping messages over <paramref name="maxLength"/> bytes unread; call while holding the worker.</summary>
    public static void Register(UcxWorker worker, uint id, IFrameReceiver receiver, long maxLength)
    {
        var target = new Target(worker, receiver, maxLength);
        var handle = GCHandle.Alloc(target);
        worker.Stopping += _ => handle.Free();
        var p = new UcpAmHandlerParam
        {
            FieldMask = Ucp.AmHandlerParamId | Ucp.AmHandlerParamFlags | Ucp.AmHandlerParamCallback | Ucp.AmHandlerParamArg,
            Id = id,
            Flags = Ucp.AmFlagWholeMessage,
            Callback = (nint)(delegate* unmanaged<nint, void*, nuint, void*, nuint, UcpAmRecvParam*, int>)&OnMessage,
            Arg = GCHandle.ToIntPtr(handle),
        };
        UcxException.Check(Ucp.WorkerSetAmRecvHandler(worker.RawWorker, &p), "ucp_worker_set_am_recv_handler");
    }

    /// <summary>Sends a frame with <paramref name="requestId"/> in the header; call while holding the worker. Returns a UCX status (0 when sent or queued).</summary>
    public static int Send(nint endpoint, uint id, ulong requestId, ReadOnlySpan<byte> frame, bool wantReply)
    {
        byte* copy = (byte*)NativeMemory.Alloc((nuint)(sizeof(ulong) + frame.Length));
        *(ulong*)copy = requestId;
        frame.CopyTo(new Span<byte>(copy + sizeof(ulong), frame.Length));
        return Send(endpoint, id, copy, sizeof(ulong), frame.Length, wantReply);
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes at <paramref name="buffer"/>, native memory from
    /// NativeMemory.Alloc that this call takes over: it is freed when UCX is done with it, or
    /// at once when the send fails. Call while holding the worker.
    /// </summary>
    public static int SendOwned(nint endpoint, uint id, byte* buffer, int length, bool wantReply) =>
        Send(endpoint, id, buffer, 0, length, wantReply);

    /// <summary>Sends a buffer whose first <paramref name="headerLength"/> bytes are the AM header and the next <paramref name="length"/> the data; frees it when done.</summary>
    static int Send(nint endpoint, uint id, byte* buffer, int headerLength, int length, bool wantReply)
    {
        var p = new UcpRequestParam
        {
            OpAttrMask = Ucp.OpAttrCallback | Ucp.OpAttrUserData | Ucp.OpAttrFlags,
            Flags = wantReply ? Ucp.AmSendFlagReply : 0,
            Callback = (nint)(delegate* unmanaged<nint, int, nint, void>)&OnSent,
            UserData = (nint)buffer,
        };
        nint request = Ucp.AmSendNbx(endpoint, id, headerLength > 0 ? buffer : null, (nuint)headerLength, buffer + headerLength, (nuint)length, &p);
        if (request == 0 || Ucp.IsError(request))
        {
            NativeMemory.Free(buffer);
            return request == 0 ? 0 : Ucp.StatusOf(request);
        }
        return 0; // OnSent frees the buffer and the request
    }

    sealed class Target(UcxWorker worker, IFrameReceiver receiver, long maxLength)
    {
        public readonly UcxWorker Worker = worker;
        public readonly IFrameReceiver Receiver = receiver;
        public readonly long MaxLength = maxLength;
    }

    sealed class Pending(Target target, nint replyEndpoint, ulong id, byte* buffer, nuint length)
    {
        public readonly Target Target = target;
        public readonly nint ReplyEndpoint = replyEndpoint;
        public readonly ulong Id = id;
        public readonly byte* Buffer = buffer;
        public readonly nuint Length = length;
    }

    [UnmanagedCallersOnly]
    static int OnMessage(nint arg, void* header, nuint headerLength, void* data, nuint length, UcpAmRecvParam* param)
    {
        try
        {
            var target = (Target)GCHandle.FromIntPtr(arg).Target!;
            nint reply = (param->RecvAttr & Ucp.AmRecvAttrReplyEp) != 0 ? param->ReplyEp : 0;
            ulong id = headerLength == sizeof(ulong) ? *(ulong*)header : 0;
            if (length > (ulong)target.MaxLength)
            {
                if ((param->RecvAttr & Ucp.AmRecvAttrRendezvous) != 0) Ucp.AmDataRelease(target.Worker.RawWorker, data);
                target.Receiver.Oversized(target.Worker, reply, id, length);
                return 0;
            }
            if ((param->RecvAttr & Ucp.AmRecvAttrRendezvous) == 0)
            {
                target.Receiver.Receive(target.Worker, reply, id, new ReadOnlySpan<byte>(data, (int)length));
                return 0;
            }
            byte* buffer = (byte*)NativeMemory.Alloc(Math.Max(length, 1));
            var pending = new Pending(target, reply, id, buffer, length);
            var handle = GCHandle.Alloc(pending);
            var p = new UcpRequestParam
            {
                OpAttrMask = Ucp.OpAttrCallback | Ucp.OpAttrUserData,
                Callback = (nint)(delegate* unmanaged<nint, int, nuint, nint, void>)&OnData,
                UserData = GCHandle.ToIntPtr(handle),
            };
            nint request = Ucp.AmRecvDataNbx(target.Worker.RawWorker, data, buffer, length, &p);
            if (request == 0) Deliver(handle, 0);
            else if (Ucp.IsError(request)) Deliver(handle, Ucp.StatusOf(request));
            return 0;
        }
        catch (Exception e)
        {
            Report(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    static void OnData(nint request, int status, nuint length, nint userData)
    {
        try
        {
            Deliver(GCHandle.FromIntPtr(userData), status);
        }
        catch (Exception e)
        {
            Report(e);
        }
        finally
        {
            Ucp.RequestFree(request);
        }
    }

    static void Deliver(GCHandle handle, int status)
    {
        var pending = (Pending)handle.Target!;
        handle.Free();
        try
        {
            if (status == 0)
                pending.Target.Receiver.Receive(pending.Target.Worker, pending.ReplyEndpoint, pending.Id, new ReadOnlySpan<byte>(pending.Buffer, (int)pending.Length));
        }
        finally
        {
            NativeMemory.Free(pending.Buffer);
        }
    }

    [UnmanagedCallersOnly]
    static void OnSent(nint request, int status, nint userData)
    {
        NativeMemory.Free((void*)userData);
        Ucp.RequestFree(request);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Report(Exception e) => System.Diagnostics.Trace.TraceError($"ucx: a message handler failed: {e}");
}
