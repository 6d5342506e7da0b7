using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// What the admin plane logs when nothing is wrong, or when one thing is: no "fail:" line for an
/// unready node's probes, and one line, not a stack trace, for an admin port that is taken.
/// </summary>
public sealed class LogNoiseTests
{
    [Fact]
    public async Task ReadinessProbesOfANodeThatIsNotReadyYetLogNoFailure()
    {
        string dir = Directory.CreateTempSubdirectory("rdmakv-admin-probes-").FullName;
        using var logs = new CapturingLoggerFactory();
        try
        {
            // No node attached: what a probe sees while the node recovers.
            await using var admin = AdminPlane.Create(new AdminOptions { DataDirectory = dir }, logs, b => b.WebHost.UseTestServer());
            await admin.StartAsync();
            using var http = ((TestServer)admin.Services.GetService(typeof(IServer))!).CreateClient();
            for (int i = 0; i < 3; i++)
                Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);

            Assert.True(logs.Entries.All(e => e.Level < LogLevel.Warning), string.Join("\n", logs.Entries.Where(e => e.Level >= LogLevel.Warning)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AnAdminPortThatIsTakenStopsTheNodeWithOneLineAndExitCodeThree()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        using var server = new ServerProcess(adminUrls: $"http://127.0.0.1:{port}");

        Assert.Equal(3, server.WaitForExit());
        string all = server.Output + server.Errors;
        Assert.DoesNotContain("fail:", all, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        string[] errors = server.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errors.Length == 1, $"stderr:\n{server.Errors}");
        Assert.Contains($"127.0.0.1:{port}", errors[0], StringComparison.Ordinal);
        Assert.Contains("address already in use", errors[0], StringComparison.OrdinalIgnoreCase);
        Assert.True(all.Length < 2048, $"{all.Length} characters for one refusal:\n{all}");
    }

    [Fact]
    public void AnIdleNodesPeriodicCheckpointsAreNotLoggedAsInformationButOneAfterAWriteIs()
    {
        string dir = Directory.CreateTempSubdirectory("rdmakv-admin-idle-").FullName;
        using var logs = new CapturingLoggerFactory();
        try
        {
            var options = new RdmaKv.Server.StorageNodeOptions
            {
                Name = "idle-" + Guid.NewGuid().ToString("N"),
                DataDirectory = dir,
                Partitions = 1,
                MemoryBytes = 16L << 20,
                CheckpointInterval = TimeSpan.FromSeconds(1),
            };
            using var node = RdmaKv.Server.StorageNode.Start(options, new Logger<RdmaKv.Server.StorageNode>(logs));
            long Checkpoints() => node.Stats()["store_checkpoints"];
            int Announced() => logs.Entries.Count(e => e.Level == LogLevel.Information && e.Text.StartsWith("Checkpoint ", StringComparison.Ordinal));
            void WaitForCheckpoints(long count)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
                while (Checkpoints() < count)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{Checkpoints()} of {count} checkpoints within 2 minutes");
                    Thread.Sleep(100);
                }
            }

            // Three periodic checkpoints of a node nobody writes to: at most the first is news.
            long start = Checkpoints();
            int before = Announced();
            WaitForCheckpoints(start + 3);
            Assert.True(Announced() - before <= 1, string.Join("\n", logs.Entries.Select(e => $"{e.Level} {e.Text}")));

            // A write makes the next one news again.
            int idle = Announced();
            Assert.Equal(Core.StoreStatus.Ok, node.Put("k"u8, "v"u8));
            WaitForCheckpoints(Checkpoints() + 2);
            Assert.True(Announced() > idle, "the checkpoint after a write was not logged");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Keeps every entry logged through it, with its level and category.</summary>
    sealed class CapturingLoggerFactory : ILoggerFactory, ILoggerProvider
    {
        readonly ConcurrentQueue<(LogLevel Level, string Category, string Text)> _entries = new();

        public IReadOnlyList<(LogLevel Level, string Category, string Text)> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        sealed class Logger(string category, ConcurrentQueue<(LogLevel, string, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
