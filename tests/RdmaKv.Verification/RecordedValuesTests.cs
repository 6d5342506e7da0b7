using System.Text;

namespace RdmaKv.Verification;

public sealed class RecordedValuesTests
{
    [Fact]
    public void ValuesVaryInSizeAndReadBackAsTheirIds()
    {
        var sizes = new HashSet<int>();
        for (int i = 0; i < 1000; i++)
        {
            string id = $"3-{i}";
            byte[] stored = Encoding.UTF8.GetBytes(RecordedValues.Make(id, 0, 2000));
            sizes.Add(stored.Length);
            Assert.Equal(id, RecordedValues.Read(stored, 0, 2000));
        }
        Assert.True(sizes.Count > 300, $"only {sizes.Count} distinct sizes");
        Assert.Equal("7-1", RecordedValues.Read(Encoding.UTF8.GetBytes(RecordedValues.Make("7-1", 16, 0)), 16, 0));
        Assert.Null(RecordedValues.Read(null, 0, 2000));
    }

    [Fact]
    public void AFlippedByteATruncationOrAnotherIdsTailReadsAsCorrupt()
    {
        string id = Enumerable.Range(0, 100).Select(i => $"1-{i}").First(i => RecordedValues.Make(i, 0, 2000).Length > 100);
        byte[] stored = Encoding.UTF8.GetBytes(RecordedValues.Make(id, 0, 2000));
        var flipped = (byte[])stored.Clone();
        flipped[^3] ^= 1;
        Assert.StartsWith("corrupt", RecordedValues.Read(flipped, 0, 2000));
        Assert.StartsWith("corrupt", RecordedValues.Read(stored[..^1], 0, 2000));
        string mine = RecordedValues.Make(id, 0, 2000), theirs = RecordedValues.Make("2-5", 0, 2000);
        Assert.NotEqual(mine[id.Length..], theirs["2-5".Length..]);
        Assert.StartsWith("corrupt", RecordedValues.Read(Encoding.UTF8.GetBytes(id + theirs["2-5".Length..]), 0, 2000));
    }
}
