using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// Memory registered with UCX for one-sided remote READs (never remote writes), and its packed
/// rkey to hand to peers. Register and dispose it on the worker's progress thread.
/// </summary>
public sealed unsafe class UcxMemoryRegistration : IDisposable
{
    readonly UcpMemoryHandle _handle;

    UcxMemoryRegistration(UcpMemoryHandle handle, byte[] remoteKey)
    {
        _handle = handle;
        RemoteKey = remoteKey;
    }

    /// <summary>The packed rkey: it grants READ of exactly this memory while the registration lives.</summary>
    public byte[] RemoteKey { get; }

    public static UcxMemoryRegistration ForRemoteReads(UcxWorker worker, byte* address, long length)
    {
        var p = new UcpMemMapParams
        {
            FieldMask = Ucp.MemMapParamAddress | Ucp.MemMapParamLength | Ucp.MemMapParamProt,
            Address = (nint)address,
            Length = (nuint)length,
            Prot = Ucp.ProtLocalRead | Ucp.ProtLocalWrite | Ucp.ProtRemoteRead,
        };
        nint memh;
        UcxException.Check(Ucp.MemMap(worker.RawContext, &p, &memh), "ucp_mem_map");
        var handle = new UcpMemoryHandle(memh, worker.Context);
        void* packed;
        nuint size;
        int status = Ucp.RkeyPack(worker.RawContext, memh, &packed, &size);
        if (status != 0)
        {
            handle.Dispose();
            UcxException.Check(status, "ucp_rkey_pack");
        }
        byte[] key = new ReadOnlySpan<byte>(packed, (int)size).ToArray();
        Ucp.RkeyBufferRelease(packed);
        return new UcxMemoryRegistration(handle, key);
    }

    public void Dispose() => _handle.Dispose();
}
