using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace RdmaKv.Admin.Tests;

/// <summary>The CLI's admin verbs (<c>rdmakv checkpoint</c>) against the live server's admin plane.</summary>
[Collection(LiveServerCollection.Name)]
public sealed class CliAdminVerbTests(LiveServerFixture live)
{
    async Task<long> Checkpoints()
    {
        var stats = await live.Http.GetFromJsonAsync<JsonElement>("api/stats");
        return stats.GetProperty("counters").GetProperty("store_checkpoints").GetInt64();
    }

    [Fact]
    public async Task CheckpointWithTheTokenFileTakesOneAndPrintsIt()
    {
        long before = await Checkpoints();
        var (code, stdout, stderr) = await RunCli("checkpoint", "--admin", live.AdminUrl.ToString().TrimEnd('/'),
            "--admin-token-file", Path.Combine(live.Server.DataDirectory, AdminToken.FileName));
        Assert.True(code == 0, stderr);
        using var report = JsonDocument.Parse(stdout);
        Assert.NotEqual(Guid.Empty, report.RootElement.GetProperty("id").GetGuid());
        Assert.Equal(before + 1, await Checkpoints());
    }

    [Fact]
    public async Task AWrongTokenIsRefusedWithTheReasonAndTakesNone()
    {
        string wrong = Path.Combine(Path.GetTempPath(), $"wrong-token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(wrong, new string('x', 43));
        try
        {
            long before = await Checkpoints();
            var (code, _, stderr) = await RunCli("checkpoint", "--admin", live.AdminUrl.ToString().TrimEnd('/'), "--admin-token-file", wrong);
            Assert.Equal(2, code);
            Assert.Contains("401", stderr, StringComparison.Ordinal);
            Assert.Equal(before, await Checkpoints());
        }
        finally
        {
            File.Delete(wrong);
        }
    }

    [Fact]
    public async Task NoAdminPlaneAnsweringIsExitCode3()
    {
        var (code, _, stderr) = await RunCli("checkpoint", "--admin", "http://127.0.0.1:1",
            "--admin-token-file", Path.Combine(live.Server.DataDirectory, AdminToken.FileName));
        Assert.Equal(3, code);
        Assert.Contains("did not answer", stderr, StringComparison.Ordinal);
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunCli(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "rdmakv.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing from the test output folder");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("RDMAKV_ADMIN_TOKEN");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
