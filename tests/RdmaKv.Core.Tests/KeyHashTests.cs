namespace RdmaKv.Core.Tests;

public class KeyHashTests
{
    [Fact]
    public void AlternateBucketIsAnInvolutionThatNeverReturnsTheSameBucket()
    {
        var random = new Random(11);
        for (int bits = 1; bits <= 40; bits++)
        {
            ulong mask = (1UL << bits) - 1;
            for (int i = 0; i < 2_000; i++)
            {
                ulong bucket = (ulong)random.NextInt64() & mask;
                ushort fingerprint = (ushort)random.Next(0x10000);
                ulong other = KeyHash.AlternateBucket(bucket, fingerprint, mask);
                Assert.True(other <= mask);
                Assert.NotEqual(bucket, other);
                Assert.Equal(bucket, KeyHash.AlternateBucket(other, fingerprint, mask));
            }
        }
    }

    [Fact]
    public void BothCandidateBucketsFollowFromEitherBucketAndTheFingerprint()
    {
        const ulong mask = 1023;
        for (int i = 0; i < 10_000; i++)
        {
            KeyHash hash = TestKit.Hash(TestKit.Key(i));
            ulong primary = hash.PrimaryBucket(mask);
            ulong secondary = hash.SecondaryBucket(mask);
            Assert.True(primary <= mask && secondary <= mask);
            Assert.NotEqual(primary, secondary);
            Assert.Equal(primary, KeyHash.AlternateBucket(secondary, hash.Fingerprint, mask));
        }
    }

    [Fact]
    public void HashDependsOnTheSeed()
    {
        byte[] key = TestKit.Key("seeded");
        Assert.Equal(KeyHash.Compute(key, 1).Value, KeyHash.Compute(key, 1).Value);
        Assert.NotEqual(KeyHash.Compute(key, 1).Value, KeyHash.Compute(key, 2).Value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(65536)]
    public void PartitionIsAlwaysWithinRange(int partitions)
    {
        var random = new Random(partitions);
        for (int i = 0; i < 20_000; i++)
        {
            int p = new KeyHash((ulong)random.NextInt64() ^ ((ulong)random.Next() << 63)).Partition(partitions);
            Assert.InRange(p, 0, partitions - 1);
        }
        Assert.Equal(0, new KeyHash(0).Partition(partitions));
        Assert.Equal(partitions - 1, new KeyHash(ulong.MaxValue).Partition(partitions));
    }

    [Fact]
    public void PartitionSpreadsKeysEvenly()
    {
        const int partitions = 16;
        const int keys = 160_000;
        int[] counts = new int[partitions];
        for (int i = 0; i < keys; i++) counts[TestKit.Hash(TestKit.Key(i)).Partition(partitions)]++;

        double expected = (double)keys / partitions;
        double chiSquare = counts.Sum(c => (c - expected) * (c - expected) / expected);
        // 15 degrees of freedom: the 99.9th percentile is 37.7.
        Assert.True(chiSquare < 37.7, $"chi-square {chiSquare:F1} over [{string.Join(", ", counts)}]");
        Assert.All(counts, c => Assert.InRange(c, expected * 0.95, expected * 1.05));
    }
}
