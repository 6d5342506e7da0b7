using System.Runtime.InteropServices;

namespace RdmaKv.Core;

/// <summary>Memory that holds one region: process memory, a shared-memory file, registered memory.</summary>
public abstract unsafe class RegionMemory : IDisposable
{
    public abstract byte* Pointer { get; }
    public abstract long Length { get; }

    /// <summary>Where a local client finds this memory (a file path), or null when only this process can.</summary>
    public virtual string? Location => null;

    int _holds = 1; // the owner's, given up by Dispose
    int _disposed;

    /// <summary>
    /// Keeps the memory mapped after its owner disposes it, until <see cref="Release"/>: a remote
    /// transport that has registered it for READs retains it while any client may still read it.
    /// False once the memory is gone.
    /// </summary>
    public bool TryRetain()
    {
        for (int h = Volatile.Read(ref _holds); h > 0; h = Volatile.Read(ref _holds))
            if (Interlocked.CompareExchange(ref _holds, h + 1, h) == h) return true;
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _holds) != 0) return;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Gives up the owner's hold; the memory goes when the last retainer releases it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }

    protected abstract void Dispose(bool disposing);
}

/// <summary>Makes the memory for a partition's region of a given generation.</summary>
public interface IRegionMemoryFactory
{
    RegionMemory Allocate(int partition, ulong generation, long length);
}

/// <summary>Process memory, page aligned and zeroed, owned by a SafeHandle.</summary>
public sealed unsafe class NativeRegionMemory : RegionMemory
{
    readonly NativeMemoryHandle _handle;

    public NativeRegionMemory(long length)
    {
        _handle = NativeMemoryHandle.Allocate(length);
        Length = length;
    }

    public override byte* Pointer => (byte*)_handle.DangerousGetHandle();
    public override long Length { get; }

    protected override void Dispose(bool disposing) => _handle.Dispose();

    public sealed class Factory : IRegionMemoryFactory
    {
        public RegionMemory Allocate(int partition, ulong generation, long length) => new NativeRegionMemory(length);
    }
}

/// <summary>Owns a block from <see cref="NativeMemory.AlignedAlloc(nuint, nuint)"/>.</summary>
public sealed unsafe class NativeMemoryHandle : SafeHandle
{
    NativeMemoryHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public static NativeMemoryHandle Allocate(long length)
    {
        var h = new NativeMemoryHandle();
        void* p = NativeMemory.AlignedAlloc((nuint)length, 4096);
        NativeMemory.Clear(p, (nuint)length);
        h.SetHandle((IntPtr)p);
        return h;
    }

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
