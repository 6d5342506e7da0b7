using System.IO.MemoryMappedFiles;
using RdmaKv.Core;

namespace RdmaKv.Transport;

/// <summary>
/// A client's read-only mapping of a node's region file. Readers take a lease on it
/// (<see cref="TryLease"/>) for the length of one lookup, so a refresh that replaces the mapping
/// never unmaps memory a reader is still reading.
/// </summary>
public sealed unsafe class MappedRegionFile : IDisposable
{
    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _pointer;

    MappedRegionFile(MemoryMappedFile file, MemoryMappedViewAccessor view, long length, RegionHeader header)
    {
        _file = file;
        _view = view;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + view.PointerOffset;
        Length = length;
        Header = header;
    }

    public long Length { get; }
    public RegionHeader Header { get; }

    /// <summary>
    /// Maps a region file read-only and checks its header; with <paramref name="owner"/>, first
    /// checks that the file opened is a regular file that user owns.
    /// </summary>
    public static MappedRegionFile Open(string path, long length, uint? owner = null)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        MemoryMappedFile? file = null;
        try
        {
            if (owner is { } expected && UnixFiles.GetStatus(stream.SafeFileHandle) is var status && (status.Kind != UnixFileKind.RegularFile || status.Uid != expected))
            {
                throw new UnauthorizedAccessException(
                    $"region file {path} is {status.Describe()} owned by {UnixFiles.DescribeUser(status.Uid)}, not the node's ({UnixFiles.DescribeUser(expected)}): it may be forged");
            }
            if (stream.Length < length || length < RegionHeader.Size)
                throw new InvalidDataException($"region file {path} is {stream.Length} bytes, expected {length}");
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            bool valid = RegionHeader.TryRead(new ReadOnlySpan<byte>(p + view.PointerOffset, RegionHeader.Size), out var header);
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            if (!valid || header.RegionSize > length)
            {
                view.Dispose();
                throw new InvalidDataException($"region file {path} has no valid header");
            }
            return new MappedRegionFile(file, view, length, header);
        }
        catch
        {
            if (file is null) stream.Dispose(); else file.Dispose();
            throw;
        }
    }

    /// <summary>Keeps the mapping alive until <see cref="Unlease"/>; false once it is being disposed.</summary>
    public bool TryLease(out MappedRegionAccess access)
    {
        bool added = false;
        try
        {
            _view.SafeMemoryMappedViewHandle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
        }
        access = added ? new MappedRegionAccess(_pointer, Length) : default;
        return added;
    }

    public void Unlease() => _view.SafeMemoryMappedViewHandle.DangerousRelease();

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
