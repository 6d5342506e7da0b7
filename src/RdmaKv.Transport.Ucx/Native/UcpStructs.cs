using System.Runtime.InteropServices;

namespace RdmaKv.Transport.Ucx.Native;

// Mirrors of the UCX 1.13 structs this library passes to libucp (x86-64, LP64). Only the fields
// named in each struct's field mask are read by UCX, but every field is mirrored so that a test
// can compare sizes and offsets with the C headers (UcxStructLayoutTests).

[StructLayout(LayoutKind.Sequential)]
struct UcpParams
{
    public ulong FieldMask;
    public ulong Features;
    public nuint RequestSize;
    public nint RequestInit;
    public nint RequestCleanup;
    public ulong TagSenderMask;
    public int MtWorkersShared;
    public nuint EstimatedNumEps;
    public nuint EstimatedNumPpn;
    public nint Name;
}

[StructLayout(LayoutKind.Sequential)]
unsafe struct UcpWorkerParams
{
    public ulong FieldMask;
    public int ThreadMode;
    public fixed ulong CpuMask[16]; // ucs_cpu_set_t: 1024 bits
    public uint Events;
    public nint UserData;
    public int EventFd;
    public ulong Flags;
    public nint Name;
    public nuint AmAlignment;
    public ulong ClientId;
}

[StructLayout(LayoutKind.Sequential)]
struct UcsSockAddr
{
    public nint Addr;
    public uint AddrLength;
}

[StructLayout(LayoutKind.Sequential)]
struct UcpEpParams
{
    public ulong FieldMask;
    public nint Address;
    public int ErrMode;
    public nint ErrCallback;
    public nint ErrArg;
    public nint UserData;
    public uint Flags;
    public UcsSockAddr SockAddr;
    public nint ConnRequest;
    public nint Name;
    public UcsSockAddr LocalSockAddr;
}

[StructLayout(LayoutKind.Sequential)]
struct UcpMemMapParams
{
    public ulong FieldMask;
    public nint Address;
    public nuint Length;
    public uint Flags;
    public uint Prot;
    public int MemoryType;
}

[StructLayout(LayoutKind.Sequential)]
struct UcpRequestParam
{
    public uint OpAttrMask;
    public uint Flags;
    public nint Request;
    public nint Callback;
    public ulong Datatype;
    public nint UserData;
    public nint ReplyBuffer;
    public int MemoryType;
    public nint RecvInfo;
    public nint Memh;
}

[StructLayout(LayoutKind.Sequential)]
struct UcpAmHandlerParam
{
    public ulong FieldMask;
    public uint Id;
    public uint Flags;
    public nint Callback;
    public nint Arg;
}

[StructLayout(LayoutKind.Sequential)]
struct UcpAmRecvParam
{
    public ulong RecvAttr;
    public nint ReplyEp;
}
