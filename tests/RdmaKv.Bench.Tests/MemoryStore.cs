using System.Collections.Concurrent;
using RdmaKv.Bench.Stores;

namespace RdmaKv.Bench.Tests;

/// <summary>
/// A store in a dictionary that fails every <c>failEvery</c>-th write and counts what it was
/// asked, so tests can check the benchmark's accounting against the store's own.
/// </summary>
sealed class MemoryStore(int failEvery = 0) : IBenchStore
{
    public readonly ConcurrentDictionary<string, byte[]> Records = new();
    public readonly ConcurrentQueue<string> Log = new();
    readonly int _failEvery = failEvery;
    long _writes;
    public long Reads;
    public long FailedWrites;

    public string Store => "Memory";
    public string Transport => "none";
    public string? ServerInfo => null;

    public IStoreSession OpenSession() => new Session(this);

    public void Dispose()
    {
    }

    sealed class Session(MemoryStore store) : IStoreSession
    {
        public int Read(ReadOnlySpan<byte> key, Span<byte> buffer)
        {
            Interlocked.Increment(ref store.Reads);
            string k = System.Text.Encoding.ASCII.GetString(key);
            store.Log.Enqueue("R " + k);
            if (!store.Records.TryGetValue(k, out var value)) return -1;
            value.CopyTo(buffer);
            return value.Length;
        }

        public void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            string k = System.Text.Encoding.ASCII.GetString(key);
            store.Log.Enqueue("W " + k);
            if (store._failEvery > 0 && Interlocked.Increment(ref store._writes) % store._failEvery == 0)
            {
                Interlocked.Increment(ref store.FailedWrites);
                throw new IOException("injected write failure");
            }
            store.Records[k] = value.ToArray();
        }

        public long? Retries => 0;

        public void Dispose()
        {
        }
    }
}
