using RdmaKv.Core;

namespace RdmaKv.Transport.Tests;

public class MappedRegionFileTests
{
    [Fact]
    public unsafe void AClientMappingReadsWhatTheNodeWritesAndOutlivesTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("rdmakv-region-").FullName;
        string path = Path.Combine(dir, "p0-g1.region");
        var header = RegionHeader.Plan(0, 1, 1, 16, 42, 64 * 1024);
        var memory = new SharedMemoryRegion(path, header.RegionSize);
        var region = new Region(memory, header);
        region.State = RegionState.Active;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        using var mapped = MappedRegionFile.Open(path, header.RegionSize);
        Assert.Equal(header, mapped.Header);
        region.Bytes(header.ExtentOffset, 8).Fill(0xAB);
        Assert.True(mapped.TryLease(out var access));
        var seen = new byte[8];
        Assert.True(access.Read(header.ExtentOffset, seen));
        Assert.All(seen, b => Assert.Equal(0xAB, b));
        mapped.Unlease();

        region.Dispose(); // the node unmaps and removes the file
        Assert.False(File.Exists(path));
        Assert.True(mapped.TryLease(out access)); // the client's mapping stays valid
        Assert.True(access.Read(header.ExtentOffset, seen));
        Assert.All(seen, b => Assert.Equal(0xAB, b));
        mapped.Unlease();
        Directory.Delete(dir, true);
    }

    [Fact]
    public void AFileWithoutAValidHeaderIsRefused()
    {
        string path = Path.GetTempFileName();
        File.WriteAllBytes(path, new byte[8192]);
        Assert.Throws<InvalidDataException>(() => MappedRegionFile.Open(path, 8192));
        File.Delete(path);
    }

    [Fact]
    public void ADisposedMappingRefusesNewLeases()
    {
        string dir = Directory.CreateTempSubdirectory("rdmakv-region-").FullName;
        try
        {
            string path = Path.Combine(dir, "p0-g1.region");
            var header = RegionHeader.Plan(0, 1, 1, 16, 42, 4096);
            using var region = new Region(new SharedMemoryRegion(path, header.RegionSize), header);
            var mapped = MappedRegionFile.Open(path, header.RegionSize);
            Assert.True(mapped.TryLease(out _));
            mapped.Dispose();           // a reader holds a lease: the unmap waits for it
            mapped.Unlease();
            Assert.False(mapped.TryLease(out _));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
