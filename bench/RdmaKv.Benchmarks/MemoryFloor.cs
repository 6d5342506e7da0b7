using System.Diagnostics;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;
using RdmaKv.Core;

namespace RdmaKv.Benchmarks;

/// <summary>
/// What this machine's memory allows a GET at best: copy one extent-sized block from a random
/// place in a shared-memory file as large as the data set, checksum it as the reader does, and
/// copy the value out; nothing else (no key hash, index or location cache). Each read's address
/// depends on the one before, as one client thread's GETs do, so the figure is latency, not
/// bandwidth. A GET cannot be faster than this.
/// </summary>
static class MemoryFloor
{
    static int s_zero; // not constant to the JIT: keeps each address dependent on the last result

    public static double Measure(int keys, int valueSize, int keySize, long[] order, int seconds)
    {
        s_zero = keys < 0 ? 1 : 0;
        int used = ExtentHeader.Size + keySize + valueSize;
        long stride = ExtentAllocator.ClassLength(ExtentAllocator.ClassOf(used));
        long size = keys * stride;
        string path = $"/dev/shm/rdmakv-floor-{Environment.ProcessId}";
        try
        {
            using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Create, null, size);
            using var view = file.CreateViewAccessor(0, size);
            var random = new Random(3);
            var chunk = new byte[1 << 20];
            for (long at = 0; at < size; at += chunk.Length)
            {
                random.NextBytes(chunk);
                view.WriteArray(at, chunk, 0, (int)Math.Min(chunk.Length, size - at));
            }
            return Run(view.SafeMemoryMappedViewHandle, used, stride, valueSize, order, seconds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    static unsafe double Run(SafeMemoryMappedViewHandle view, int used, long stride, int valueSize, long[] order, int seconds)
    {
        byte* region = null;
        view.AcquirePointer(ref region);
        try
        {
            byte[] scratch = GC.AllocateUninitializedArray<byte>(used, pinned: true);
            byte[] value = new byte[valueSize];
            int mask = order.Length - 1;
            ulong last = 0;
            long cursor = 0;
            var rates = new List<double>();
            for (int s = -1; s < seconds; s++) // the first second warms up
            {
                long n = 0;
                var window = Stopwatch.StartNew();
                while (window.ElapsedTicks < Stopwatch.Frequency)
                {
                    for (int i = 0; i < 1000; i++)
                    {
                        long key = order[(cursor++ + (long)(last & (ulong)s_zero)) & mask];
                        new ReadOnlySpan<byte>(region + key * stride, used).CopyTo(scratch);
                        last = XxHash3.HashToUInt64(scratch.AsSpan(ExtentHeader.ChecksumStart));
                        scratch.AsSpan(used - valueSize).CopyTo(value);
                    }
                    n += 1000;
                }
                if (s >= 0) rates.Add(n / window.Elapsed.TotalSeconds);
            }
            rates.Sort();
            return rates[rates.Count / 2];
        }
        finally
        {
            view.ReleasePointer();
        }
    }
}
