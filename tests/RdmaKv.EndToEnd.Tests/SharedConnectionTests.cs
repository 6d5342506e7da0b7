using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using RdmaKv.Client;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A remote client's threads share one UCX connection and take turns driving its worker while
/// they wait; a thread whose spin runs out blocks and the progress thread carries on for it.
/// Threads race puts and GETs through one connection with a spin so short that both ways happen
/// all the time, and every read is checked: whole (the value says what it is), and never older
/// than the last put the same thread had acknowledged.
/// </summary>
public sealed class SharedConnectionTests
{
    [Theory]
    [InlineData(0)]     // every wait blocks at once: the progress thread completes everything
    [InlineData(3)]     // some waits finish while driving, some block: both paths on one connection
    [InlineData(200)]   // the default: callers drive
    public void ThreadsSharingAConnectionReadTheirOwnLatestWritesWhole(int spinMicroseconds)
    {
        using var node = new TestNode(o => o with { Partitions = 2 });
        using var client = node.ConnectRemote(new KvClientOptions { RemoteSpin = TimeSpan.FromMicroseconds(spinMicroseconds) });
        const int Threads = 4, KeysPerThread = 16;
        var failures = new ConcurrentQueue<string>();
        long operations = 0;
        // Every thread goes on until the threads together did Operations and it did its share; the
        // deadline bounds a hang only.
        const long Operations = 10_000, Share = Operations / Threads / 2;
        var deadline = TimeSpan.FromMinutes(2);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            var acknowledged = new long[KeysPerThread];
            var buffer = new byte[256];
            long mine = 0;
            try
            {
                while ((Interlocked.Read(ref operations) < Operations || mine < Share) && failures.IsEmpty && started.Elapsed < deadline)
                {
                    int k = random.Next(KeysPerThread);
                    byte[] key = Encoding.UTF8.GetBytes($"t{t}-k{k}");
                    if (random.Next(4) == 0)
                    {
                        client.Put(key, Value(t, k, acknowledged[k] + 1, 16 + random.Next(200)));
                        acknowledged[k]++;
                    }
                    else if (client.TryGet(key, buffer, out int length))
                    {
                        string? problem = Check(buffer.AsSpan(0, length), t, k, acknowledged[k]);
                        if (problem is not null) failures.Enqueue(problem);
                    }
                    else if (acknowledged[k] > 0)
                    {
                        failures.Enqueue($"t{t}-k{k} not found after put {acknowledged[k]} was acknowledged");
                    }
                    Interlocked.Increment(ref operations);
                    mine++;
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"thread {t}: {e.GetType().Name}: {e.Message}");
            }
        })).ToList();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) Assert.True(thread.Join(deadline + TimeSpan.FromSeconds(30)), "a thread hung");
        Console.WriteLine($"{operations} operations in {started.Elapsed.TotalSeconds:F1} s");
        Assert.Empty(failures);
        Assert.True(operations >= Operations, $"only {operations} operations in {deadline}: the threads made no progress");
    }

    /// <summary>A value that says which thread, key and put wrote it, repeated to its length.</summary>
    static byte[] Value(int thread, int key, long sequence, int length)
    {
        var value = new byte[length];
        for (int at = 0; at + 16 <= length; at += 16)
        {
            BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(at), thread);
            BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(at + 4), key);
            BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(at + 8), sequence);
        }
        return value;
    }

    static string? Check(ReadOnlySpan<byte> value, int thread, int key, long acknowledged)
    {
        if (value.Length < 16) return $"t{thread}-k{key}: a value of {value.Length} bytes";
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(value[8..]);
        for (int at = 0; at + 16 <= value.Length; at += 16)
        {
            if (BinaryPrimitives.ReadInt32LittleEndian(value[at..]) != thread || BinaryPrimitives.ReadInt32LittleEndian(value[(at + 4)..]) != key
                || BinaryPrimitives.ReadInt64LittleEndian(value[(at + 8)..]) != sequence)
                return $"t{thread}-k{key}: a torn value (part at {at} differs)";
        }
        if (value[(value.Length / 16 * 16)..].ContainsAnyExcept((byte)0)) return $"t{thread}-k{key}: a torn tail";
        return sequence < acknowledged ? $"t{thread}-k{key}: read put {sequence} after put {acknowledged} was acknowledged" : null;
    }
}
