namespace RdmaKv.Transport.Tests;

public sealed class NodeLockTests : IDisposable
{
    readonly List<string> _parents = [];

    NodeDirectory TempDirectory()
    {
        string parent = Directory.CreateTempSubdirectory("rdmakv-lock-").FullName;
        _parents.Add(parent);
        return new("lock-" + Guid.NewGuid().ToString("N")[..12], parent);
    }

    /// <summary>The node's own directory goes with its lock; the temporary parent goes here.</summary>
    public void Dispose()
    {
        foreach (string parent in _parents) Directory.Delete(parent, recursive: true);
    }

    [Fact]
    public void ASecondHolderOfTheNameIsRefusedWithTheName()
    {
        var directory = TempDirectory();
        using (NodeLock.Acquire(directory))
        {
            var e = Assert.Throws<InvalidOperationException>(() => NodeLock.Acquire(directory));
            Assert.Contains(directory.Name, e.Message);
            Assert.Contains("already running", e.Message);
        }
        Assert.False(Directory.Exists(directory.Path));
    }

    [Fact]
    public void LeftoversOfACrashedNodeAreSweptAtTheNextStart()
    {
        var directory = TempDirectory();
        Directory.CreateDirectory(directory.Path);
        string stale = directory.RegionPath(0, 7);
        File.WriteAllText(stale, "left by a crash");
        using (NodeLock.Acquire(directory))
        {
            Assert.False(File.Exists(stale));
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(directory.Path) & (UnixFileMode)0x1FF);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public void NamesThatAreNotPlainAreRejected(string name)
    {
        Assert.Throws<ArgumentException>(() => new NodeDirectory(name, "/tmp"));
    }
}
