using System.Runtime.InteropServices;

namespace RdmaKv.Transport.Ucx.Native;

/// <summary>
/// Raw libucp entry points (Debian package libucx0, UCX 1.13). Arguments are blittable; handles
/// are plain pointers here and owned by the SafeHandles in UcpHandles.cs (<see cref="UcpHandle"/>).
/// </summary>
static unsafe partial class Ucp
{
    public const string Library = "libucp.so.0";
    const string Ucs = "libucs.so.0";
    const string LibC = "libc";

    public const uint ApiMajor = 1;
    public const uint ApiMinor = 13;

    // ucp_params_t.field_mask and features
    public const ulong ParamFeatures = 1 << 0;
    public const ulong ParamMtWorkersShared = 1 << 5;
    public const ulong ParamEstimatedNumEps = 1 << 6;
    public const ulong ParamName = 1 << 8;
    public const ulong FeatureRma = 1 << 1;
    public const ulong FeatureWakeup = 1 << 4;
    public const ulong FeatureAm = 1 << 6;

    // ucp_worker_params_t
    public const ulong WorkerParamThreadMode = 1 << 0;
    public const ulong WorkerParamEvents = 1 << 2;
    public const int ThreadModeSingle = 0;
    public const int ThreadModeSerialized = 1;
    public const uint WakeupRma = 1 << 0;
    public const uint WakeupTx = 1 << 10;
    public const uint WakeupRx = 1 << 11;

    // ucp_ep_params_t
    public const ulong EpParamRemoteAddress = 1 << 0;
    public const ulong EpParamErrHandlingMode = 1 << 1;
    public const ulong EpParamErrHandler = 1 << 2;
    public const int ErrHandlingModePeer = 1;
    public const uint EpCloseFlagForce = 1 << 0;

    // ucp_mem_map_params_t
    public const ulong MemMapParamAddress = 1 << 0;
    public const ulong MemMapParamLength = 1 << 1;
    public const ulong MemMapParamProt = 1 << 3;
    public const uint ProtLocalRead = 1 << 0;
    public const uint ProtLocalWrite = 1 << 1;
    public const uint ProtRemoteRead = 1 << 8;

    // ucp_request_param_t
    public const uint OpAttrCallback = 1 << 1;
    public const uint OpAttrUserData = 1 << 2;
    public const uint OpAttrFlags = 1 << 4;
    public const uint AmSendFlagReply = 1 << 0;

    // ucp_am_handler_param_t and ucp_am_recv_param_t
    public const ulong AmHandlerParamId = 1 << 0;
    public const ulong AmHandlerParamFlags = 1 << 1;
    public const ulong AmHandlerParamCallback = 1 << 2;
    public const ulong AmHandlerParamArg = 1 << 3;
    public const uint AmFlagWholeMessage = 1 << 0;
    public const ulong AmRecvAttrReplyEp = 1 << 0;
    public const ulong AmRecvAttrData = 1 << 16;
    public const ulong AmRecvAttrRendezvous = 1 << 17;

    [LibraryImport(Library, EntryPoint = "ucp_config_read")]
    public static partial int ConfigRead(byte* envPrefix, byte* fileName, nint* config);

    [LibraryImport(Library, EntryPoint = "ucp_config_release")]
    public static partial void ConfigRelease(nint config);

    [LibraryImport(Library, EntryPoint = "ucp_init_version")]
    public static partial int InitVersion(uint apiMajor, uint apiMinor, UcpParams* parameters, nint config, nint* context);

    [LibraryImport(Library, EntryPoint = "ucp_cleanup")]
    public static partial void Cleanup(nint context);

    [LibraryImport(Library, EntryPoint = "ucp_worker_create")]
    public static partial int WorkerCreate(nint context, UcpWorkerParams* parameters, nint* worker);

    [LibraryImport(Library, EntryPoint = "ucp_worker_destroy")]
    public static partial void WorkerDestroy(nint worker);

    [LibraryImport(Library, EntryPoint = "ucp_worker_progress")]
    public static partial uint WorkerProgress(nint worker);

    [LibraryImport(Library, EntryPoint = "ucp_worker_get_efd")]
    public static partial int WorkerGetEfd(nint worker, int* fd);

    [LibraryImport(Library, EntryPoint = "ucp_worker_arm")]
    public static partial int WorkerArm(nint worker);

    [LibraryImport(Library, EntryPoint = "ucp_worker_signal")]
    public static partial int WorkerSignal(nint worker);

    [LibraryImport(Library, EntryPoint = "ucp_worker_set_am_recv_handler")]
    public static partial int WorkerSetAmRecvHandler(nint worker, UcpAmHandlerParam* parameters);

    [LibraryImport(Library, EntryPoint = "ucp_worker_get_address")]
    public static partial int WorkerGetAddress(nint worker, nint* address, nuint* length);

    [LibraryImport(Library, EntryPoint = "ucp_worker_release_address")]
    public static partial void WorkerReleaseAddress(nint worker, nint address);

    [LibraryImport(Library, EntryPoint = "ucp_ep_create")]
    public static partial int EpCreate(nint worker, UcpEpParams* parameters, nint* endpoint);

    [LibraryImport(Library, EntryPoint = "ucp_ep_close_nbx")]
    public static partial nint EpCloseNbx(nint endpoint, UcpRequestParam* parameters);

    [LibraryImport(Library, EntryPoint = "ucp_mem_map")]
    public static partial int MemMap(nint context, UcpMemMapParams* parameters, nint* memh);

    [LibraryImport(Library, EntryPoint = "ucp_mem_unmap")]
    public static partial int MemUnmap(nint context, nint memh);

    [LibraryImport(Library, EntryPoint = "ucp_rkey_pack")]
    public static partial int RkeyPack(nint context, nint memh, void** buffer, nuint* size);

    [LibraryImport(Library, EntryPoint = "ucp_rkey_buffer_release")]
    public static partial void RkeyBufferRelease(void* buffer);

    [LibraryImport(Library, EntryPoint = "ucp_ep_rkey_unpack")]
    public static partial int EpRkeyUnpack(nint endpoint, void* buffer, nint* rkey);

    [LibraryImport(Library, EntryPoint = "ucp_rkey_destroy")]
    public static partial void RkeyDestroy(nint rkey);

    [LibraryImport(Library, EntryPoint = "ucp_get_nbx")]
    public static partial nint GetNbx(nint endpoint, void* buffer, nuint count, ulong remoteAddress, nint rkey, UcpRequestParam* parameters);

    [LibraryImport(Library, EntryPoint = "ucp_am_send_nbx")]
    public static partial nint AmSendNbx(nint endpoint, uint id, void* header, nuint headerLength, void* buffer, nuint count, UcpRequestParam* parameters);

    [LibraryImport(Library, EntryPoint = "ucp_am_recv_data_nbx")]
    public static partial nint AmRecvDataNbx(nint worker, void* dataDescriptor, void* buffer, nuint count, UcpRequestParam* parameters);

    [LibraryImport(Library, EntryPoint = "ucp_am_data_release")]
    public static partial void AmDataRelease(nint worker, void* data);

    [LibraryImport(Library, EntryPoint = "ucp_request_check_status")]
    public static partial int RequestCheckStatus(nint request);

    [LibraryImport(Library, EntryPoint = "ucp_request_free")]
    public static partial void RequestFree(nint request);

    [LibraryImport(Ucs, EntryPoint = "ucs_status_string")]
    public static partial byte* StatusString(int status);

    [LibraryImport(LibC, EntryPoint = "setenv", SetLastError = true)]
    public static partial int SetEnv(byte* name, byte* value, int overwrite);

    [LibraryImport(LibC, EntryPoint = "getenv")]
    public static partial byte* GetEnv(byte* name);

    [LibraryImport(LibC, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    public const short PollIn = 1;

    /// <summary>A ucs_status_ptr_t holds an error when it lies in [-100, -1] as a signed value.</summary>
    public static bool IsError(nint statusPointer) => (nuint)statusPointer >= unchecked((nuint)(-100));

    public static int StatusOf(nint statusPointer) => (int)statusPointer;

    public static string Describe(int status) => Marshal.PtrToStringUTF8((nint)StatusString(status)) ?? $"status {status}";
}
