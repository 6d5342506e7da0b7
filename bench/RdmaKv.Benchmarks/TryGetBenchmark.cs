using System.Text;
using BenchmarkDotNet.Attributes;
using RdmaKv.Client;
using RdmaKv.Server;

namespace RdmaKv.Benchmarks;

/// <summary>Proves a local TryGet allocates nothing, and times it (1 KiB values, 100,000 keys).</summary>
[MemoryDiagnoser]
public class TryGetBenchmark
{
    NodeHost _node = null!;
    KvClient _client = null!;
    byte[][] _keys = null!;
    readonly byte[] _buffer = new byte[1024];
    int _next;

    [GlobalSetup]
    public void Setup()
    {
        string name = $"bdn-{Environment.ProcessId}";
        _node = NodeHost.Start(new StorageNodeOptions { Name = name, DataDirectory = Path.Combine(Path.GetTempPath(), name), MemoryBytes = 1L << 30, AdminUrls = "none" });
        _client = KvClient.Connect("local:" + name);
        _keys = Enumerable.Range(0, 100_000).Select(i => Encoding.UTF8.GetBytes($"user{i:D12}")).ToArray();
        var value = new byte[1024];
        for (int i = 0; i < _keys.Length; i += 256) _client.PutMany([.. _keys.Skip(i).Take(256).Select(k => (k, value))]);
    }

    [Benchmark]
    public bool TryGet()
    {
        _next = (_next + 7919) % _keys.Length;
        return _client.TryGet(_keys[_next], _buffer, out _);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _node.Dispose();
    }
}
