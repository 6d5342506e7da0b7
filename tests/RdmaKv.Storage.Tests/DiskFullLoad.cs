using System.Diagnostics;
using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// Writers over <c>local:</c> that put unique values until the node answers DiskFull, recording,
/// per key, the acknowledged writes in order and the ones whose outcome is unknown (DiskFull or a
/// lost connection: they may or may not have taken effect). Each key has one writing thread.
/// </summary>
sealed class DiskFullLoad(string node, int threads, int keysPerThread, int valueBytes)
{
    /// <summary>One write: its value, its index in its thread's sequence, when it was acknowledged.</summary>
    public readonly record struct Write(string Value, long Index, long AckedAt);

    sealed class KeyHistory
    {
        public readonly List<Write> Acked = [];
        public readonly List<string> Unknown = [];
    }

    readonly KeyHistory[] _keys = [.. Enumerable.Range(0, threads * keysPerThread).Select(_ => new KeyHistory())];
    long _acked;
    long _diskFull;
    long _firstDiskFullAt;

    public long Acknowledged => Interlocked.Read(ref _acked);
    public long DiskFullReplies => Interlocked.Read(ref _diskFull);

    /// <summary>When the first DiskFull came back (a Stopwatch timestamp), or 0.</summary>
    public long FirstDiskFullAt => Interlocked.Read(ref _firstDiskFullAt);

    public static string Key(int k) => $"disk-full-{k:D5}";

    /// <summary>
    /// Every thread writes until it has seen DiskFull <paramref name="diskFullPerThread"/> times
    /// (or, with 0, until <paramref name="writesPerThread"/> writes are acknowledged), or until the deadline.
    /// </summary>
    public void Run(int diskFullPerThread, int writesPerThread, TimeSpan deadline)
    {
        long stopAt = Environment.TickCount64 + (long)deadline.TotalMilliseconds;
        Exception? failure = null;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int self = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    WriteUntil(self, diskFullPerThread, writesPerThread, stopAt);
                }
                catch (Exception e)
                {
                    failure ??= e;
                }
            });
            workers[t].Start();
        }
        foreach (var w in workers) Assert.True(w.Join(deadline + TimeSpan.FromSeconds(30)), "a writer hung");
        if (failure is not null) throw new Xunit.Sdk.XunitException($"a writer failed: {failure}");
    }

    void WriteUntil(int self, int diskFullPerThread, int writesPerThread, long stopAt)
    {
        var random = new Random(self * 7919 + Environment.TickCount);
        var padding = new string('v', valueBytes);
        using var client = KvClient.Connect("local:" + node);
        int diskFull = 0, acked = 0;
        for (long n = 0; Environment.TickCount64 < stopAt; n++)
        {
            if (diskFullPerThread > 0 ? diskFull >= diskFullPerThread : acked >= writesPerThread) return;
            int k = random.Next(keysPerThread) * threads + self;
            string value = $"{k}:{self}:{n}:{Guid.NewGuid():N}:{padding}";
            var h = _keys[k];
            try
            {
                client.Put(Encoding.UTF8.GetBytes(Key(k)), Encoding.UTF8.GetBytes(value));
            }
            catch (KvException e) when (e.Status == StoreStatus.DiskFull)
            {
                lock (h) h.Unknown.Add(value);
                diskFull++;
                Interlocked.Increment(ref _diskFull);
                Interlocked.CompareExchange(ref _firstDiskFullAt, Stopwatch.GetTimestamp(), 0);
                if (diskFullPerThread == 0) Thread.Sleep(5); // waiting for space: back off, as a client would
                continue;
            }
            lock (h) h.Acked.Add(new Write(value, n, Stopwatch.GetTimestamp()));
            acked++;
            Interlocked.Increment(ref _acked);
        }
    }

    /// <summary>
    /// Reads every key and returns the acknowledged writes lost: a key's newest acknowledged value
    /// is lost when the key holds neither it nor a value whose write had an unknown outcome.
    /// </summary>
    public List<Write> Lost(KvClient client)
    {
        var lost = new List<Write>();
        for (int k = 0; k < _keys.Length; k++)
        {
            var h = _keys[k];
            if (h.Acked.Count == 0) continue;
            string? value = client.Get(Key(k)) is { } v ? Encoding.UTF8.GetString(v) : null;
            var newest = h.Acked[^1];
            if (value == newest.Value || (value is not null && h.Unknown.Contains(value))) continue;
            lost.Add(newest);
        }
        return lost;
    }

    /// <summary>
    /// With one writer thread, the writes a crash may lose are the newest ones: the store after a
    /// recovery must be the state after some prefix of the acknowledged writes. Null when it is;
    /// otherwise which key breaks it.
    /// </summary>
    public string? PrefixViolation(KvClient client)
    {
        // Each key's recovered write (its index in the thread's sequence), or -1.
        // A key holding a write whose outcome was unknown (the last of the thread's writes) is not checked.
        var recovered = new long[_keys.Length];
        var unknown = new bool[_keys.Length];
        long cut = -1;
        for (int k = 0; k < _keys.Length; k++)
        {
            string? value = client.Get(Key(k)) is { } v ? Encoding.UTF8.GetString(v) : null;
            int at = _keys[k].Acked.FindIndex(w => w.Value == value);
            recovered[k] = at < 0 ? -1 : _keys[k].Acked[at].Index;
            unknown[k] = value is not null && at < 0 && _keys[k].Unknown.Contains(value);
            if (value is not null && at < 0 && !unknown[k]) return $"key {k} holds {value[..40]}, never written";
            cut = Math.Max(cut, recovered[k]);
        }
        for (int k = 0; k < _keys.Length; k++)
        {
            if (unknown[k]) continue;
            // The key must hold its newest acknowledged write at or before the cut.
            var before = _keys[k].Acked.LastOrDefault(w => w.Index <= cut);
            long expected = before.Value is null ? -1 : before.Index;
            if (recovered[k] != expected && !(recovered[k] == -1 && _keys[k].Acked.All(w => w.Index > cut)))
                return $"key {k} recovered write {recovered[k]}, but write {cut} of the same thread survived and the key's newest write before it is {expected}";
        }
        return null;
    }
}
