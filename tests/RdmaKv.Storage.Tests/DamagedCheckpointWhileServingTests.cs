using System.Net.Http.Headers;
using System.Text.Json;
using RdmaKv.Client;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// A node in <c>sync</c> whose newest checkpoint is damaged on disk while it serves: it goes on
/// serving, and after a SIGKILL it starts from the checkpoint before (two are kept) plus the log,
/// with every acknowledged write and a warning that names the damaged one. When the damaged one
/// is the only one, it refuses to start (exit code 3) and names it, rather than start empty.
/// </summary>
public sealed class DamagedCheckpointWhileServingTests : IDisposable
{
    static readonly string[] Args = ["--durability", "sync", "--checkpoint-interval", "0", "--listen", "none"];
    readonly TempDirectory _dir = new();
    readonly Dictionary<string, string?> _expected = new(StringComparer.Ordinal);

    [Fact]
    public void ANodeServesOnWithItsNewestCheckpointDamagedAndRecoversEveryAcknowledgedWriteFromTheOneBefore()
    {
        string name = "ckpt-" + Guid.NewGuid().ToString("N")[..12];
        Guid older, newest;
        using (var server = ServerProcess.StartWithAdmin(name, _dir.Path, Args))
        using (var client = KvClient.Connect("local:" + name))
        {
            Write(client, "first", 0, 300);
            older = Checkpoint(server);
            Write(client, "first", 0, 300, step: 3, round: 2);
            Delete(client, "first-1");
            Write(client, "second", 0, 200);
            newest = Checkpoint(server);
            Assert.NotEqual(older, newest);
            Write(client, "third", 0, 200);
            Delete(client, "second-5");

            Damage(newest);

            // The node reads from its regions and writes to its log: the damaged files are not in its way.
            AssertHoldsExpected(client);
            Write(client, "fourth", 0, 200);
            Write(client, "second", 0, 200, step: 7, round: 2);
            Delete(client, "first-4");
            AssertHoldsExpected(client);
            server.Kill();
        }

        using (var restarted = new ServerProcess(name, _dir.Path, Args))
        {
            restarted.WaitUntilUp();
            Assert.Contains($"checkpoint {newest}", restarted.Output, StringComparison.Ordinal);
            Assert.Contains("falling back to the one before", restarted.Output, StringComparison.Ordinal);
            using var client = KvClient.Connect("local:" + name);
            AssertHoldsExpected(client);
        }
    }

    [Fact]
    public void ANodeWhoseOnlyCheckpointIsDamagedRefusesToStartWithExitCode3AndNamesIt()
    {
        string name = "ckpt-" + Guid.NewGuid().ToString("N")[..12];
        Guid only;
        using (var server = ServerProcess.StartWithAdmin(name, _dir.Path, Args))
        using (var client = KvClient.Connect("local:" + name))
        {
            Write(client, "first", 0, 300);
            only = Checkpoint(server);
            Write(client, "second", 0, 100);
            Damage(only);
            AssertHoldsExpected(client);
            server.Kill();
        }

        using var restarted = new ServerProcess(name, _dir.Path, Args);
        Assert.Equal(3, restarted.WaitForExit());
        Assert.Contains($"checkpoint {only}", restarted.Output, StringComparison.Ordinal);
        Assert.Contains("can be recovered", restarted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("is up", restarted.Output, StringComparison.Ordinal);
    }

    void Write(KvClient client, string prefix, int from, int to, int step = 1, int round = 1)
    {
        for (int i = from; i < to; i += step)
        {
            string key = $"{prefix}-{i}", value = $"{key}-round-{round}-" + new string('v', 200);
            client.Put(key, value);
            _expected[key] = value;
        }
    }

    void Delete(KvClient client, string key)
    {
        Assert.True(client.Delete(key));
        _expected[key] = null;
    }

    void AssertHoldsExpected(KvClient client)
    {
        foreach (var (key, value) in _expected)
        {
            string? read = client.Get(key) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;
            Assert.True(value == read, $"{key}: expected {value ?? "no value"}, read {read ?? "no value"}");
        }
    }

    /// <summary>Asks the node's admin plane for a checkpoint now; returns its token.</summary>
    Guid Checkpoint(ServerProcess server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        using var request = new HttpRequestMessage(HttpMethod.Post, server.AdminUrl + "/api/checkpoint");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(_dir.Path, "admin-token")).Trim());
        using var response = http.Send(request);
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"the checkpoint failed: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Flips a byte in the middle of the largest file of checkpoint <paramref name="token"/>; its manifest stays.</summary>
    void Damage(Guid token)
    {
        string checkpoints = Path.Combine(_dir.Path, "store", "checkpoints");
        Assert.Contains(Directory.GetFiles(checkpoints, "*.manifest"), m => m.Contains(token.ToString(), StringComparison.Ordinal));
        string victim = Directory.GetFiles(checkpoints, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(token.ToString(), StringComparison.Ordinal) && !f.EndsWith(".manifest", StringComparison.Ordinal))
            .OrderByDescending(f => new FileInfo(f).Length).First();
        using var file = new FileStream(victim, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length / 2;
        int b = file.ReadByte();
        file.Position = file.Length / 2;
        file.WriteByte((byte)(b ^ 0xFF));
    }

    public void Dispose() => _dir.Dispose();
}
