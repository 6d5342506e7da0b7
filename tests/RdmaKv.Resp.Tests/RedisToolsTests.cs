using System.Diagnostics;
using System.Globalization;

namespace RdmaKv.Resp.Tests;

/// <summary>Debian's redis-tools (redis-cli, redis-benchmark) against a node's gateway.</summary>
public sealed class RedisToolsTests : IDisposable
{
    readonly RespTestNode _node = new();

    /// <summary>Runs a redis-tools program with the token in REDISCLI_AUTH (never on the command line); returns its exit code and output.</summary>
    internal static (int Exit, string Output, string Errors) Run(string program, string token, params string[] arguments)
    {
        Assert.True(File.Exists($"/usr/bin/{program}"), $"/usr/bin/{program} is missing: apt-get install redis-tools");
        var info = new ProcessStartInfo($"/usr/bin/{program}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        info.Environment["REDISCLI_AUTH"] = token;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within 3 minutes");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, errors.Result);
    }

    string Cli(params string[] arguments)
    {
        var (exit, output, errors) = Run("redis-cli", _node.Token, ["-h", "127.0.0.1", "-p", _node.EndPoint.Port.ToString(CultureInfo.InvariantCulture), .. arguments]);
        Assert.True(exit == 0, $"redis-cli {string.Join(' ', arguments)} exited {exit}: {output}{errors}");
        return output.TrimEnd('\n');
    }

    [Fact]
    public void RedisCliSetsGetsIncrementsAndDeletes()
    {
        Assert.Equal("OK", Cli("SET", "greeting", "hello world"));
        Assert.Equal("hello world", Cli("GET", "greeting"));
        Assert.Equal("1", Cli("INCR", "visits"));
        Assert.Equal("6", Cli("INCRBY", "visits", "5"));
        Assert.Equal("OK", Cli("MSET", "a", "1", "b", "2"));
        Assert.Equal("1\n\n2", Cli("MGET", "a", "missing", "b"));
        Assert.Equal("2", Cli("DEL", "a", "b"));
        Assert.Equal("", Cli("GET", "a"));
        Assert.Equal("2", Cli("DBSIZE"));
        string info = Cli("INFO");
        Assert.Contains("redis_version:7.0.0", info);
        Assert.Contains("db0:keys=2,expires=0,avg_ttl=0", info);
        Assert.Equal("PONG", Cli("-3", "PING"));
    }

    [Fact]
    public void RedisCliWithoutTheTokenIsRefused()
    {
        var (_, output, _) = Run("redis-cli", "wrong-token", "-p", _node.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "GET", "k");
        Assert.Contains("NOAUTH Authentication required.", output);
    }

    [Fact]
    public void RedisBenchmarkGetAndSetRunWithNoErrors()
    {
        // redis-benchmark takes no REDISCLI_AUTH: the token goes in -a (a test node's, on loopback).
        var (exit, output, errors) = Run("redis-benchmark", _node.Token,
            "-h", "127.0.0.1", "-p", _node.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "-a", _node.Token, "-t", "get,set", "-n", "20000", "--csv");
        // It stops at the first error reply with exit 1 ("replied with error"); --csv gives one row per test: "SET","rps",...
        Assert.True(exit == 0, $"redis-benchmark exited {exit}: {output}{errors}");
        Assert.DoesNotContain("error", output + errors, StringComparison.OrdinalIgnoreCase);
        var rows = output.Split('\n').Where(l => l.StartsWith("\"SET\"", StringComparison.Ordinal) || l.StartsWith("\"GET\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        foreach (string row in rows) Assert.True(double.Parse(row.Split(',')[1].Trim('"'), CultureInfo.InvariantCulture) > 0, row);
        Assert.Equal(0, _node.Gateway.Counters.ErrorReplies);
        Assert.True(_node.Gateway.Counters.Commands >= 40_000, $"{_node.Gateway.Counters.Commands} commands");
    }

    public void Dispose() => _node.Dispose();
}
