using RdmaKv.Core;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>
/// One region generation served to remote READs (registered with UCX for one-sided READs, or
/// just retained for message READs): the memory is retained (kept mapped after
/// the partition moves on to a newer generation) until no connection has held its rkey for a
/// grace period, so a client READing a retired region reads its retired state, never unmapped
/// memory. The grace matters because a client's threads share a connection: one thread's refresh
/// lets go of a generation while another thread's READ of it may still be on its way, and UCX's
/// tcp emulation serves a READ by copying from the address it names (a real NIC would refuse a
/// deregistered rkey; the emulation crashed the node, measured with two client threads).
/// </summary>
sealed unsafe class RegionRegistration
{
    readonly RegionMemory _memory;
    readonly UcxMemoryRegistration? _memh;

    RegionRegistration(int partition, ulong generation, Region region, UcxMemoryRegistration? memh, byte[] key)
    {
        Partition = partition;
        Generation = generation;
        _memory = region.Memory;
        _memh = memh;
        Address = (ulong)region.Base;
        Length = region.Length;
        RemoteKey = key;
    }

    public int Partition { get; }
    public ulong Generation { get; }
    public ulong Address { get; }
    public long Length { get; }
    public byte[] RemoteKey { get; }
    public int Holders { get; set; }
    public bool Current { get; set; } = true;

    /// <summary>When the last holder let go (Environment.TickCount64), or null while held or current.</summary>
    public long? ReleasedAt { get; set; }

    /// <summary>Retains <paramref name="region"/>, and registers it when READs are one-sided; null when its memory is already gone. On the progress thread.</summary>
    public static RegionRegistration? Create(UcxWorker worker, int partition, Region region, bool oneSided)
    {
        if (!region.Memory.TryRetain()) return null;
        if (!oneSided) return new RegionRegistration(partition, region.Header.Generation, region, null, []);
        try
        {
            // Remote peers may read, never write: the rkey grants READ of this region only.
            var registration = UcxMemoryRegistration.ForRemoteReads(worker, region.Base, region.Length);
            return new RegionRegistration(partition, region.Header.Generation, region, registration, registration.RemoteKey);
        }
        catch
        {
            region.Memory.Release();
            throw;
        }
    }

    /// <summary>Deregisters and lets the memory go. On the progress thread.</summary>
    public void Destroy()
    {
        _memh?.Dispose();
        _memory.Release();
    }
}
