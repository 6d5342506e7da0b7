using System.Numerics;
using RdmaKv.Bench.Ycsb;

namespace RdmaKv.Bench.Tests;

/// <summary>
/// YCSB's generators against their definitions. Tolerances are five standard deviations of a
/// binomial share, so a correct generator fails about once in three million runs, and a wrong
/// formula (another constant, a missing zeta term, an unscrambled draw) fails every time.
/// </summary>
public class GeneratorTests
{
    const int Draws = 400_000;

    static double FiveSigma(double p, int n) => 5 * Math.Sqrt(p * (1 - p) / n);

    static long[] Histogram(Func<Rng, long> draw, long size, int draws = Draws, ulong seed = 42)
    {
        var rng = new Rng(seed);
        var counts = new long[size];
        for (int i = 0; i < draws; i++)
        {
            long v = draw(rng);
            Assert.InRange(v, 0, size - 1);
            counts[v]++;
        }
        return counts;
    }

    [Fact]
    public void ZipfianMostPopularItemsHaveTheSharesOfTheZipfianFormula()
    {
        const long n = 1000;
        var zipfian = new ZipfianGenerator(0, n - 1);
        double zeta = ZipfianGenerator.Zeta(n, 0.99);
        Assert.Equal(zeta, zipfian.Zetan, 12);
        var counts = Histogram(zipfian.Next, n);
        // Gray et al.'s method gives ranks 0 and 1 exactly 1/zeta and 2^-theta/zeta.
        for (int rank = 0; rank < 2; rank++)
        {
            double p = Math.Pow(rank + 1, -0.99) / zeta;
            Assert.InRange(counts[rank] / (double)Draws, p - FiveSigma(p, Draws), p + FiveSigma(p, Draws));
        }
        // Further ranks follow the power law approximately (the method's continuous approximation).
        for (int rank = 2; rank < 10; rank++)
        {
            double p = Math.Pow(rank + 1, -0.99) / zeta;
            Assert.InRange(counts[rank] / (double)Draws, p * 0.75, p * 1.25);
        }
        Assert.True(counts[0] > counts[1] && counts[1] > counts[5] && counts[5] > counts[50], "popularity falls with rank");
    }

    [Fact]
    public void ZipfianConstantChangesTheSkew()
    {
        var flatter = new ZipfianGenerator(0, 999, 0.5);
        var counts = Histogram(flatter.Next, 1000);
        double p = 1 / ZipfianGenerator.Zeta(1000, 0.5);
        Assert.InRange(counts[0] / (double)Draws, p - FiveSigma(p, Draws), p + FiveSigma(p, Draws));
    }

    [Fact]
    public void ZipfianExtendsZetaIncrementallyWhenTheItemCountGrows()
    {
        var zipfian = new ZipfianGenerator(100);
        var rng = new Rng(1);
        for (int i = 0; i < 1000; i++) Assert.InRange(zipfian.NextLong(250, rng), 0, 249);
        Assert.Equal(ZipfianGenerator.Zeta(250, 0.99), zipfian.Zetan, 10);
    }

    [Fact]
    public void ScrambledZipfianZetaConstantIsZetaOfTenBillionItems()
    {
        // zeta(n, s) by Euler-Maclaurin: the exact sum to m, then the integral and two correction terms for the tail.
        const double s = 0.99;
        const long m = 1_000_000;
        double n = ScrambledZipfianGenerator.ItemCount + 1; // YCSB's ZipfianGenerator(0, ITEM_COUNT) spans ITEM_COUNT + 1 items
        double head = ZipfianGenerator.Zeta(m, s);
        double tail = (Math.Pow(n, 1 - s) - Math.Pow(m, 1 - s)) / (1 - s)
            + (Math.Pow(n, -s) - Math.Pow(m, -s)) / 2
            - s / 12 * (Math.Pow(n, -s - 1) - Math.Pow(m, -s - 1));
        Assert.Equal(ScrambledZipfianGenerator.Zetan, head + tail, 6);
    }

    [Fact]
    public void ScrambledZipfianPutsTheHottestRankWhereItsHashSaysWithItsShare()
    {
        const long n = 1000;
        var scrambled = new ScrambledZipfianGenerator(0, n - 1);
        var counts = Histogram(scrambled.Next, n);
        long hottest = Array.IndexOf(counts, counts.Max());
        Assert.Equal(Fnv.Hash64(0) % n, hottest);
        double p = 1 / ScrambledZipfianGenerator.Zetan;
        // Other ranks that hash to the same key add a little (about 0.1% here), never less.
        Assert.InRange(counts[hottest] / (double)Draws, p - FiveSigma(p, Draws), p + 0.005);
    }

    [Fact]
    public void ScrambledZipfianCoversTheWholeKeySpace()
    {
        const long n = 1000;
        var scrambled = new ScrambledZipfianGenerator(0, n - 1);
        var counts = Histogram(scrambled.Next, n);
        Assert.All(counts, c => Assert.True(c > 0, "every key is drawn"));
        // An unscrambled zipfian puts half its draws on the first ~5% of the keys; scrambled spreads them.
        long firstTwentieth = counts.Take((int)(n / 20)).Sum();
        Assert.True(firstTwentieth < Draws / 4, $"the first 5% of keys got {firstTwentieth} of {Draws} draws");
    }

    [Fact]
    public void ScrambledZipfianHonoursItsRangeStart()
    {
        var scrambled = new ScrambledZipfianGenerator(500, 599);
        var rng = new Rng(3);
        for (int i = 0; i < 10_000; i++) Assert.InRange(scrambled.Next(rng), 500, 599);
    }

    [Fact]
    public void LatestFavoursTheMostRecentInserts()
    {
        var inserts = new AcknowledgedCounterGenerator(1000);
        var latest = new SkewedLatestGenerator(inserts);
        var counts = Histogram(latest.Next, 1200);
        Assert.Equal(999, Array.IndexOf(counts, counts.Max()));
        double p = 1 / ZipfianGenerator.Zeta(999, 0.99);
        Assert.InRange(counts[999] / (double)Draws, p - FiveSigma(p, Draws), p + FiveSigma(p, Draws));
        Assert.True(counts[998] > counts[900] && counts[900] > counts[100], "newer records are hotter");
        Assert.Equal(0, counts.Skip(1000).Sum());

        for (int i = 0; i < 100; i++) inserts.Acknowledge(inserts.Next());
        counts = Histogram(latest.Next, 1200, seed: 43);
        Assert.Equal(1099, Array.IndexOf(counts, counts.Max()));
        Assert.True(counts[1099] > 10 * counts[999], "the hot spot moved to the newest insert");
        Assert.Equal(0, counts.Skip(1100).Sum());
    }

    [Fact]
    public void UniformDrawsEveryItemEqually()
    {
        var uniform = new UniformGenerator(0, 9);
        var counts = Histogram(uniform.Next, 10);
        foreach (long c in counts) Assert.InRange(c / (double)Draws, 0.1 - FiveSigma(0.1, Draws), 0.1 + FiveSigma(0.1, Draws));
    }

    [Fact]
    public void AcknowledgedCounterAdvancesOnlyOverContiguousAcknowledgements()
    {
        var counter = new AcknowledgedCounterGenerator(10);
        Assert.Equal(9, counter.LastValue);
        long a = counter.Next(), b = counter.Next(), c = counter.Next();
        Assert.Equal((10, 11, 12), (a, b, c));
        counter.Acknowledge(b);
        counter.Acknowledge(c);
        Assert.Equal(9, counter.LastValue);
        counter.Acknowledge(a);
        Assert.Equal(12, counter.LastValue);
        Assert.Throws<InvalidOperationException>(() => counter.Acknowledge(a));
    }

    [Fact]
    public void AcknowledgedCounterIsConsistentUnderRacingThreads()
    {
        var counter = new AcknowledgedCounterGenerator(0);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 50_000; i++) counter.Acknowledge(counter.Next());
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(199_999, counter.LastValue);
    }

    [Fact]
    public void SameSeedGivesTheSameDrawsAndAnotherSeedDoesNot()
    {
        static long[] Draw(ulong seed)
        {
            var rng = new Rng(seed);
            var zipfian = new ZipfianGenerator(0, 9999);
            var scrambled = new ScrambledZipfianGenerator(0, 9999);
            var uniform = new UniformGenerator(0, 9999);
            var latest = new SkewedLatestGenerator(new AcknowledgedCounterGenerator(10_000));
            return [.. Enumerable.Range(0, 1000).SelectMany(_ => new[] { zipfian.Next(rng), scrambled.Next(rng), uniform.Next(rng), latest.Next(rng) })];
        }
        Assert.Equal(Draw(7), Draw(7));
        Assert.NotEqual(Draw(7), Draw(8));
        Assert.NotEqual(Rng.StreamSeed(7, 0), Rng.StreamSeed(7, 1));
    }

    [Fact]
    public void KeyChooserNeverPicksARecordNotYetInserted()
    {
        var chooser = new KeyChooser(Distribution.Zipfian, 1000, 100_000, 0.05);
        var rng = new Rng(5);
        for (int i = 0; i < 50_000; i++) Assert.InRange(chooser.Next(rng), 0, chooser.Inserts.LastValue);
        for (int i = 0; i < 500; i++) chooser.Inserts.Acknowledge(chooser.Inserts.Next());
        long max = 0;
        for (int i = 0; i < 200_000; i++) max = Math.Max(max, chooser.Next(rng));
        Assert.InRange(max, 1000, 1499);
    }

    [Fact]
    public void RecordKeysAreUserAndTheFnvHashOfTheKeyNumber()
    {
        // The oracle: FNV-1a 64 written out with BigInteger over the little-endian bytes, then Java's Math.abs.
        foreach (long keyNumber in new long[] { 0, 1, 2, 255, 256, 99_999, long.MaxValue / 3 })
        {
            BigInteger hash = Fnv.OffsetBasis;
            foreach (byte b in BitConverter.GetBytes(keyNumber))
                hash = ((hash ^ b) * Fnv.Prime) % BigInteger.Pow(2, 64);
            long signed = (long)(ulong)hash;
            Assert.Equal("user" + Math.Abs(signed), RecordKey.Of(keyNumber));
        }
        // The first key YCSB loads, as its traces show it.
        Assert.Equal("user6284781860667377211", RecordKey.Of(0));
    }

    [Fact]
    public void WorkloadMixesHaveYcsbsProportions()
    {
        var rng = new Rng(9);
        foreach (var (workload, operation, share) in new[]
        {
            (Workload.A, Operation.Update, 0.5), (Workload.B, Operation.Update, 0.05), (Workload.C, Operation.Read, 1.0),
            (Workload.D, Operation.Insert, 0.05), (Workload.F, Operation.ReadModifyWrite, 0.5),
        })
        {
            int hits = 0;
            for (int i = 0; i < 100_000; i++) hits += workload.NextOperation(rng) == operation ? 1 : 0;
            Assert.InRange(hits / 100_000.0, share - FiveSigma(share, 100_000) - 1e-9, share + FiveSigma(share, 100_000) + 1e-9);
        }
        Assert.Equal(Distribution.Latest, Workload.D.Distribution);
        Assert.Equal(Distribution.Zipfian, Workload.A.Distribution);
    }

    [Fact]
    public void WorkloadEIsRefusedWithTheReason()
    {
        var e = Assert.Throws<ArgumentException>(() => Workload.Parse("e"));
        Assert.Contains("scan", e.Message, StringComparison.Ordinal);
        Assert.Contains("hash", e.Message, StringComparison.Ordinal);
        Assert.Equal(Workload.F, Workload.Parse("workloadf"));
        Assert.Throws<ArgumentException>(() => Workload.Parse("G"));
    }
}
