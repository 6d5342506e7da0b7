using System.Net;
using System.Runtime.CompilerServices;
using RdmaKv.Client;
using RdmaKv.Server;
using RdmaKv.Server.Ucx;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A storage node started in this process under a name no other test uses, with its own data
/// directory, so tests run in parallel. Dispose stops it and removes the data directory.
/// </summary>
sealed class TestNode : IDisposable
{
    readonly bool _ownsDataDirectory;

    public TestNode(Func<StorageNodeOptions, StorageNodeOptions>? configure = null, string? name = null, string? dataDirectory = null)
    {
        Name = name ?? UniqueName();
        _ownsDataDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? NewDataDirectory();
        // No admin plane unless a test asks: the default port is shared by every test node.
        var options = new StorageNodeOptions { Name = Name, DataDirectory = DataDirectory, AdminUrls = "none" };
        try
        {
            Host = NodeHost.Start(configure is null ? options : configure(options));
        }
        catch
        {
            DeleteDataDirectory();
            throw;
        }
    }

    public string Name { get; }
    public string DataDirectory { get; }
    /// <summary>The node with its listeners, started as the server binary starts them.</summary>
    public NodeHost Host { get; }

    public StorageNode Node => Host.Node;
    public string SharedMemoryPath => Node.NodeDirectory.Path;
    public string Uri => "local:" + Name;

    public static string UniqueName() => "e2e-" + Guid.NewGuid().ToString("N");

    public static string NewDataDirectory() => Directory.CreateTempSubdirectory("rdmakv-e2e-").FullName;

    public KvClient Connect(LocalWritePath writes = LocalWritePath.Mailbox) => Connect(new KvClientOptions { LocalWrites = writes });

    public KvClient Connect(TestTransport transport) => transport switch
    {
        TestTransport.Ucx => ConnectRemote(new KvClientOptions()),
        TestTransport.Socket => Connect(LocalWritePath.Socket),
        _ => Connect(LocalWritePath.Mailbox),
    };

    public KvClient Connect(KvClientOptions options) => KvClient.Connect(Uri, options);

    UcxNodeListener? _remote;

    /// <summary>Connects over UCX (tcp on loopback) to a listener this node's host starts on first use.</summary>
    public KvClient ConnectRemote(KvClientOptions options)
    {
        lock (this)
        {
            _remote ??= Host.AddRemote(new IPEndPoint(IPAddress.Loopback, 0));
        }
        return KvClient.Connect($"ucx://127.0.0.1:{_remote.EndPoint.Port}", options with { Credential = Token });
    }

    public string Token => ClientTokenFile.LoadOrCreate(Path.Combine(DataDirectory, ClientTokenFile.FileName), out _);

    /// <summary>UCX over tcp on loopback for every test, unless the environment says otherwise.</summary>
    [ModuleInitializer]
    internal static void UseLoopbackUcx()
    {
        foreach (var (name, value) in new[] { ("UCX_TLS", "tcp"), ("UCX_NET_DEVICES", "lo") })
        {
            UcxEnvironment.SetDefault(name, value);                                       // this process's UCX
            if (Environment.GetEnvironmentVariable(name) is null) Environment.SetEnvironmentVariable(name, value); // child processes
        }
    }

    /// <summary>Mailbox files of connected clients in the node's directory.</summary>
    public int MailboxFiles => Directory.GetFiles(SharedMemoryPath, "*.mailbox").Length;

    /// <summary>Connects, or stops the node and rethrows: xunit does not dispose a test class whose constructor threw.</summary>
    public static KvClient ConnectOrStop(TestNode node, KvClientOptions options)
    {
        try
        {
            return node.Connect(options);
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    public static KvClient ConnectOrStop(TestNode node, TestTransport transport)
    {
        try
        {
            return node.Connect(transport);
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    public long Stat(string name) => Node.Stats()[name];

    /// <summary>Stops the node and checks that its shared-memory directory went with it.</summary>
    public void StopAndCheckRemoved()
    {
        Host.Dispose();
        Assert.False(Directory.Exists(SharedMemoryPath), $"{SharedMemoryPath} is still there after the node stopped");
    }

    void DeleteDataDirectory()
    {
        if (!_ownsDataDirectory) return;
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            Host.Dispose();
        }
        finally
        {
            DeleteDataDirectory();
        }
    }
}

/// <summary>How a test's client reaches the node: shared memory with mailbox or socket writes, or UCX.</summary>
public enum TestTransport
{
    Mailbox,
    Socket,
    Ucx,
}
