using RdmaKv.Bench.Ycsb;
using RdmaKv.Server;

namespace RdmaKv.Bench.Stores;

/// <summary>
/// A storage node started in this process under a fresh name with a temporary data directory,
/// read and written through <c>local:NAME</c> like any other local client; Dispose stops the node
/// (which removes its shared memory) and deletes the data directory.
/// </summary>
public sealed class EmbeddedStore : IBenchStore
{
    readonly string _dataDirectory;
    readonly NodeHost _host;

    StorageNode _node => _host.Node;
    readonly RdmaKvStore _client;

    public EmbeddedStore(long recordBytes, long records)
    {
        _dataDirectory = Directory.CreateTempSubdirectory("rdmakv-bench-").FullName;
        NodeName = $"bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];
        try
        {
            _host = NodeHost.Start(new StorageNodeOptions
            {
                Name = NodeName,
                DataDirectory = _dataDirectory,
                MemoryBytes = MemoryFor(recordBytes, records),
                AdminUrls = "none", // a benchmark opens no ports
            });
            try
            {
                _client = new RdmaKvStore("local:" + NodeName, "shared memory (in-process node, same host)");
            }
            catch
            {
                _host.Dispose();
                throw;
            }
        }
        catch
        {
            Directory.Delete(_dataDirectory, recursive: true);
            throw;
        }
    }

    public string NodeName { get; }
    public string Store => _client.Store;
    public string Transport => _client.Transport;
    public string? ServerInfo => $"embedded node '{NodeName}', {_node.Options.MemoryBytes >> 20} MiB, durability {_node.Options.Durability.ToString().ToLowerInvariant()}";

    /// <summary>
    /// Room for every record four times over (extents are 64-byte aligned, a growing region
    /// doubles, updates leave superseded extents in quarantine), never less than the node's default.
    /// </summary>
    public static long MemoryFor(long recordBytes, long records)
    {
        long perRecord = (recordBytes + RecordKey.MaxLength + 64 + 63) / 64 * 64;
        return Math.Max(new StorageNodeOptions().MemoryBytes, 4 * perRecord * records);
    }

    public IStoreSession OpenSession() => _client.OpenSession();

    public void Dispose()
    {
        try
        {
            _client.Dispose();
            _host.Dispose();
        }
        finally
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
