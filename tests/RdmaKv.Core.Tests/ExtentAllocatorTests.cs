namespace RdmaKv.Core.Tests;

public class ExtentAllocatorTests
{
    const long Start = 64 * 1024;
    static readonly TimeSpan LongGrace = TimeSpan.FromHours(1);

    [Fact]
    public void SizeClassesAreExactUpToEightUnits()
    {
        for (int units = 1; units <= 8; units++)
        {
            Assert.Equal(units - 1, ExtentAllocator.ClassOf(units * 64));
            Assert.Equal(units * 64, ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(units * 64)));
            Assert.Equal(units - 1, ExtentAllocator.ClassOf(units * 64 - 63));
        }
    }

    [Fact]
    public void SizeClassesAreMonotoneAndCoverEveryLengthWithAtMostAnEighthOfPadding()
    {
        int previousClass = 0;
        int maxUnits = (Limits.MaxExtentLength + 63) / 64;
        for (int units = 1; units <= maxUnits; units++)
        {
            int c = ExtentAllocator.ClassOf(units * 64);
            int classLength = ExtentAllocator.ClassLength(c);
            Assert.True(c >= previousClass, $"class of {units} units went down");
            Assert.True(classLength >= units * 64, $"{units} units got class {c} of only {classLength} bytes");
            Assert.Equal(0, classLength % 64);
            if (c > 0) Assert.True(ExtentAllocator.ClassLength(c - 1) < units * 64, $"{units} units skipped a smaller class that fits");
            if (units > 8)
            {
                long padding = classLength - units * 64L;
                Assert.True(padding * 8 <= classLength, $"{units} units pad {padding} bytes in a {classLength}-byte class");
            }
            previousClass = c;
        }
        for (int c = 1; c <= ExtentAllocator.ClassOf(Limits.MaxExtentLength); c++)
        {
            Assert.True(ExtentAllocator.ClassLength(c) > ExtentAllocator.ClassLength(c - 1));
            Assert.Equal(c, ExtentAllocator.ClassOf(ExtentAllocator.ClassLength(c)));
        }
    }

    [Fact]
    public void LargestExtentCanBeAllocatedAndReleased()
    {
        int classLength = ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(Limits.MaxExtentLength));
        var allocator = new ExtentAllocator(Start, Start + classLength, TimeSpan.Zero);
        Assert.True(allocator.TryAllocate(Limits.MaxExtentLength, out long offset));
        Assert.Equal(Start, offset);
        allocator.Release(offset, Limits.MaxExtentLength);
        allocator.Reclaim(long.MaxValue);
        Assert.True(allocator.TryAllocate(Limits.MaxExtentLength, out long again));
        Assert.Equal(offset, again);
    }

    [Fact]
    public void ReleasedExtentIsNotReusedBeforeItsGracePasses()
    {
        var allocator = new ExtentAllocator(Start, Start + 64 * 1024, LongGrace);
        Assert.True(allocator.TryAllocate(200, out long first));
        allocator.Release(first, 200);
        Assert.Equal(256, allocator.QuarantinedBytes);

        Assert.True(allocator.TryAllocate(200, out long second));
        Assert.NotEqual(first, second);
        Assert.Equal(256, allocator.QuarantinedBytes);
        Assert.Equal(0, allocator.FreeListBytes);
    }

    [Fact]
    public void ReleasedExtentWithAnEndlessGraceIsNotReused()
    {
        var allocator = new ExtentAllocator(Start, Start + 64 * 1024, TimeSpan.MaxValue);
        Assert.True(allocator.TryAllocate(64, out long first));
        allocator.Release(first, 64);
        allocator.Reclaim(long.MaxValue - 1);
        Assert.True(allocator.TryAllocate(64, out long second));
        Assert.NotEqual(first, second);
        Assert.Equal(64, allocator.QuarantinedBytes);
    }

    [Fact]
    public void ReleasedExtentIsReusedOnceReclaimedPastItsDueTime()
    {
        var allocator = new ExtentAllocator(Start, Start + 64 * 1024, LongGrace);
        Assert.True(allocator.TryAllocate(200, out long first));
        allocator.Release(first, 200);
        allocator.Reclaim(long.MaxValue);
        Assert.Equal(0, allocator.QuarantinedBytes);
        Assert.Equal(256, allocator.FreeListBytes);

        Assert.True(allocator.TryAllocate(256, out long reused)); // same class, not the same length
        Assert.Equal(first, reused);
        Assert.Equal(0, allocator.FreeListBytes);

        Assert.True(allocator.TryAllocate(200, out long fresh)); // the free list is empty again
        Assert.NotEqual(first, fresh);
    }

    [Fact]
    public void CountersAddUpToTheCapacity()
    {
        const long capacity = 256 * 1024;
        var allocator = new ExtentAllocator(Start, Start + capacity, LongGrace);
        var random = new Random(3);
        var live = new List<(long Offset, int Length)>();
        long requested = 0;
        bool bothQueuesUsed = false;
        for (int i = 0; i < 2_000; i++)
        {
            if (i % 500 == 250) allocator.Reclaim(long.MaxValue);
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int victim = random.Next(live.Count);
                allocator.Release(live[victim].Offset, live[victim].Length);
                requested -= live[victim].Length;
                live.RemoveAt(victim);
            }
            else
            {
                int length = random.Next(1, 3_000);
                if (!allocator.TryAllocate(length, out long offset)) continue;
                Assert.InRange(offset, Start, Start + capacity - length);
                Assert.Equal(0, offset % 64);
                live.Add((offset, length));
                requested += length;
            }
            AssertBalanced(allocator, requested);
            bothQueuesUsed |= allocator.QuarantinedBytes > 0 && allocator.FreeListBytes > 0;
        }
        Assert.True(bothQueuesUsed, "the mix never had extents in quarantine and on free lists at once");

        // No two live extents overlap.
        live.Sort();
        for (int i = 1; i < live.Count; i++)
            Assert.True(live[i - 1].Offset + ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(live[i - 1].Length)) <= live[i].Offset);
    }

    static void AssertBalanced(ExtentAllocator allocator, long requested)
    {
        ExtentAreaStats s = allocator.Stats;
        Assert.Equal(s.Capacity, s.AllocatedBytes + s.FreeListBytes + s.QuarantinedBytes + s.UntouchedBytes);
        Assert.Equal(requested, s.RequestedBytes);
        Assert.True(s.RequestedBytes <= s.AllocatedBytes);
        long touched = s.Capacity - s.UntouchedBytes;
        double expected = touched == 0 ? 0 : 1.0 - (double)s.RequestedBytes / touched;
        Assert.Equal(expected, s.Fragmentation, 12);
        Assert.InRange(s.Fragmentation, 0.0, 1.0);
    }

    [Fact]
    public void TryAllocateFailsWhenTheAreaIsFull()
    {
        var allocator = new ExtentAllocator(Start, Start + 16 * 64, LongGrace);
        Assert.False(allocator.TryAllocate(17 * 64, out _));
        for (int i = 0; i < 16; i++) Assert.True(allocator.TryAllocate(64, out _));
        Assert.Equal(0, allocator.UntouchedBytes);
        Assert.False(allocator.TryAllocate(1, out long offset));
        Assert.Equal(0, offset);
        Assert.Equal(16 * 64, allocator.AllocatedBytes);

        // Released but quarantined space is still unavailable.
        allocator.Release(Start, 64);
        Assert.False(allocator.TryAllocate(64, out _));
        allocator.Reclaim(long.MaxValue);
        Assert.True(allocator.TryAllocate(64, out offset));
        Assert.Equal(Start, offset);
    }
}
