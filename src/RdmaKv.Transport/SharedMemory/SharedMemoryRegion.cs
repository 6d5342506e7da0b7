using System.IO.MemoryMappedFiles;
using RdmaKv.Core;

namespace RdmaKv.Transport;

/// <summary>
/// A region in a shared-memory file (mode 0600), mapped read-write by the node. Disposing unmaps
/// it and removes the file; clients that still map it keep their mapping until they let go.
/// </summary>
public sealed unsafe class SharedMemoryRegion : RegionMemory
{
    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _pointer;
    readonly string _path;

    public SharedMemoryRegion(string path, long length)
    {
        _path = path;
        using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.SetLength(length);
            _file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset;
        Length = length;
    }

    public override byte* Pointer => _pointer;
    public override long Length { get; }
    public override string? Location => _path;

    protected override void Dispose(bool disposing)
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        File.Delete(_path);
    }

    /// <summary>Puts each partition's regions in files of a node directory.</summary>
    public sealed class Factory(NodeDirectory directory) : IRegionMemoryFactory
    {
        public RegionMemory Allocate(int partition, ulong generation, long length) =>
            new SharedMemoryRegion(directory.RegionPath(partition, generation), length);
    }
}
