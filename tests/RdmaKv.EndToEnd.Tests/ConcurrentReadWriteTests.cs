using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using RdmaKv.Client;
using Xunit.Abstractions;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// One writer and two readers race on one client while the node overwrites, deletes and grows.
/// The property checked: a read never returns a torn value, and never a value older than the
/// last write acknowledged before the read began.
/// </summary>
public abstract class ConcurrentReadWriteTests(TestTransport writePath, ITestOutputHelper output)
{
    const int Keys = 32;
    /// <summary>Bounds a hang only: the race ends when it has done its counts of writes and reads.</summary>
    static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    static byte[] Key(int k) => Encoding.UTF8.GetBytes($"key-{k}");

    /// <summary>"key-K|SEQ|" and padding of varying length, so extents churn and regions grow.</summary>
    static byte[] Value(int k, long seq) =>
        Encoding.UTF8.GetBytes($"key-{k}|{seq}|" + new string('x', (int)(seq * 7919 % 1500)));

    [Fact]
    public void ReadersNeverSeeAValueOlderThanTheLastAcknowledgedWrite()
    {
        using var node = new TestNode(o => o with { Partitions = 2, InitialBucketCount = 16, InitialExtentBytes = 64 << 10 });
        using var client = node.Connect(writePath);
        var lastPutAcked = new long[Keys];
        var lastDeleteBegun = new long[Keys];
        var failures = new ConcurrentQueue<string>();
        long failed = 0, writes = 0, reads = 0, absent = 0;
        void Fail(string message)
        {
            if (Interlocked.Increment(ref failed) <= 20) failures.Enqueue(message);
        }
        // The writer goes on until it has done its writes and the readers theirs; readers go on until
        // the writer stops. UCX over tcp emulates each READ in software (tens of microseconds, more on
        // a loaded machine), so its counts are smaller.
        bool remote = writePath == TestTransport.Ucx;
        long targetWrites = remote ? 200 : 1_000, targetReads = remote ? 1_000 : 10_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var writerDone = new ManualResetEventSlim();
        bool Overdue() => clock.Elapsed > Deadline || Interlocked.Read(ref failed) > 0;

        void Writer()
        {
            var random = new Random(1);
            for (long seq = 1; !Overdue() && (seq <= targetWrites || Interlocked.Read(ref reads) < targetReads); seq++)
            {
                int k = random.Next(Keys);
                if (random.Next(8) == 0)
                {
                    Volatile.Write(ref lastDeleteBegun[k], seq); // published before the node can apply it
                    client.Delete(Key(k));
                }
                else
                {
                    client.Put(Key(k), Value(k, seq));
                    Volatile.Write(ref lastPutAcked[k], seq);
                }
                Interlocked.Increment(ref writes);
                if (seq % 64 == 0)
                {
                    // Churn grows regions only when writes outpace reuse; forcing a generation now and
                    // then makes readers follow new regions however loaded the machine is.
                    var partition = node.Node.Partitions[(int)(seq / 64 % 2)];
                    lock (partition.Lock) partition.Writer.Grow();
                }
            }
        }

        void Reader(int seed)
        {
            var random = new Random(seed);
            while (!writerDone.IsSet)
            {
                int k = random.Next(Keys);
                long floor = Volatile.Read(ref lastPutAcked[k]);
                byte[]? value = client.Get(Key(k));
                Interlocked.Increment(ref reads);
                if (value is null)
                {
                    Interlocked.Increment(ref absent);
                    // Absent is fine before the first put, or when a delete began after the acknowledged put.
                    long deleted = Volatile.Read(ref lastDeleteBegun[k]);
                    if (floor > 0 && deleted < floor) Fail($"key-{k} absent though put {floor} was acknowledged and the last delete was {deleted}");
                    continue;
                }
                string[] parts = Encoding.UTF8.GetString(value).Split('|');
                if (parts.Length != 3 || parts[0] != $"key-{k}" || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long seq))
                    Fail($"key-{k} read a value that does not parse: {Encoding.UTF8.GetString(value, 0, Math.Min(value.Length, 40))}");
                else if (!value.AsSpan().SequenceEqual(Value(k, seq)))
                    Fail($"key-{k} read seq {seq} with a torn body of {value.Length} bytes");
                else if (seq < floor)
                    Fail($"key-{k} read seq {seq} after put {floor} was acknowledged");
            }
        }

        // An exception on a bare thread would take the test host down: record it as a failure instead.
        Thread Racer(Action body) => new(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                Fail(e.ToString());
            }
        });
        var threads = new[]
        {
            Racer(() =>
            {
                try
                {
                    Writer();
                }
                finally
                {
                    writerDone.Set();
                }
            }),
            Racer(() => Reader(2)), Racer(() => Reader(3)),
        };
        foreach (var t in threads)
        {
            t.Start();
        }
        foreach (var t in threads)
        {
            Assert.True(t.Join(Deadline + TimeSpan.FromSeconds(30)), "a racing thread did not finish");
        }

        output.WriteLine($"{writePath}: {writes} writes, {reads} reads ({absent} absent), {node.Stat("grows")} grows in {clock.ElapsedMilliseconds} ms");
        Assert.True(failed == 0, $"{failed} bad reads, first: {string.Join("; ", failures.Take(5))}");
        Assert.True(writes >= targetWrites && reads >= targetReads, $"only {writes} writes and {reads} reads in {Deadline}: the race made no progress");
        Assert.True(absent < reads, "every read came back empty");
        Assert.True(node.Stat("grows") > 0, "the node never grew, so readers never had to follow a new generation");
        node.StopAndCheckRemoved();
    }
}

public sealed class ConcurrentReadWriteOverMailboxTests(ITestOutputHelper output) : ConcurrentReadWriteTests(TestTransport.Mailbox, output);

public sealed class ConcurrentReadWriteOverSocketTests(ITestOutputHelper output) : ConcurrentReadWriteTests(TestTransport.Socket, output);

public sealed class ConcurrentReadWriteOverUcxTests(ITestOutputHelper output) : ConcurrentReadWriteTests(TestTransport.Ucx, output);
