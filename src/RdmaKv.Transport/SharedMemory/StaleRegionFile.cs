using System.IO.MemoryMappedFiles;
using RdmaKv.Core;

namespace RdmaKv.Transport;

/// <summary>A region file that a crashed node left in its directory.</summary>
static unsafe class StaleRegionFile
{
    /// <summary>
    /// Retires the region in <paramref name="path"/> in place (see <see cref="RegionRetirement"/>),
    /// so clients that still map it stop reading it. A file too short to be a region is left as it is.
    /// </summary>
    public static void Retire(string path)
    {
        long length = new FileInfo(path).Length;
        if (length < RegionHeader.Size) return;
        using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        try
        {
            RegionRetirement.Retire(p + view.PointerOffset, length);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }
}
