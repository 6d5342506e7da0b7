using System.Text;
using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// In sync durability a write is readable only once it is on disk. A full disk makes the commit of
/// a put fail: that put was never acknowledged, so no reader may see it, and the node must not
/// bring it back after a restart either.
/// </summary>
public sealed class SyncVisibilityTests
{
    [Fact]
    public void APutWhoseCommitFailsIsNeverReadNorRecovered()
    {
        using var tmpfs = new SmallTmpfs(64);
        tmpfs.Fill(44);
        string name = "sync-vis-" + Guid.NewGuid().ToString("N")[..12];
        string[] args = ["--durability", "sync", "--checkpoint-interval", "0", "--listen", "none"];
        var value = new byte[4000];
        var acknowledged = new List<string>();
        var refused = new List<string>();
        using (var server = new ServerProcess(name, tmpfs.DataDirectory, args))
        {
            server.WaitUntilUp();
            using var client = KvClient.Connect("local:" + name);
            // One writer, new keys, until the disk refuses a few: the first refused put is the one
            // whose commit failed (the node then refuses every write before it touches anything).
            for (int i = 0; refused.Count < 3; i++)
            {
                Assert.True(i < 100_000, "the disk never filled");
                string key = $"key-{i}";
                try
                {
                    client.Put(Encoding.UTF8.GetBytes(key), value);
                    acknowledged.Add(key);
                }
                catch (KvException e) when (e.Status == StoreStatus.DiskFull)
                {
                    refused.Add(key);
                }
            }
            foreach (string key in refused) Assert.Null(client.Get(key));
            foreach (string key in acknowledged) Assert.NotNull(client.Get(key));
            server.Kill();
        }
        tmpfs.Free();
        using var restarted = new ServerProcess(name, tmpfs.DataDirectory, args);
        restarted.WaitUntilUp();
        using var reader = KvClient.Connect("local:" + name);
        foreach (string key in refused) Assert.Null(reader.Get(key));
        Assert.DoesNotContain(acknowledged, k => reader.Get(k) is null);
    }
}
