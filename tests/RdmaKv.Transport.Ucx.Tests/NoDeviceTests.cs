namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// When UCX finds none of its network devices (an interface that lost its carrier, a wrong
/// UCX_NET_DEVICES), making a connection fails as an I/O error the caller handles, like a refused
/// connection. It was a bare exception, which nobody caught on a node's lease thread: the node died.
/// Changes the process's UCX environment, so it runs alone.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public sealed class NoDeviceTests
{
    [Fact]
    public void AConnectionWithNoUsableDeviceFailsAsAnIOException()
    {
        string? before = Environment.GetEnvironmentVariable("UCX_NET_DEVICES");
        UcxEnvironment.Set("UCX_TLS", "tcp");
        UcxEnvironment.Set("UCX_NET_DEVICES", "rdmakvnodev0");
        try
        {
            var e = Record.Exception(() => UcxClientConnection.Connect("127.0.0.1", 9, new UcxClientOptions { Credential = "x", ProtocolVersion = 1, Timeout = TimeSpan.FromSeconds(5) }).Dispose());
            Assert.NotNull(e);
            Assert.True(e is IOException, $"expected an IOException, got {e.GetType().Name}: {e.Message}");
            Assert.Contains("ucp_init", e.Message);
        }
        finally
        {
            UcxEnvironment.Set("UCX_NET_DEVICES", before ?? "lo");
        }
    }
}
