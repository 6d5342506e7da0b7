using System.Diagnostics;
using System.Text;

namespace RdmaKv.Deploy.Tests;

/// <summary>What a finished command printed and how it exited.</summary>
sealed record ToolResult(string Command, int ExitCode, string Output, string Error)
{
    public string Describe() => $"`{Command}` exited with {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";

    public ToolResult Succeeded()
    {
        Assert.True(ExitCode == 0, Describe());
        return this;
    }
}

/// <summary>Runs the host's commands (bash, docker-compose, dotnet, ip) with a bound on every wait.</summary>
static class Tool
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Runs <paramref name="file"/> and waits for it and its output, at most <paramref name="timeout"/>
    /// (default <see cref="Patience"/>); a command that outlives it is killed and the test fails.
    /// A command that is not installed fails the test and names its Debian package.
    /// </summary>
    public static ToolResult Run(string file, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? input = null)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null) info.Environment.Remove(k);
            else info.Environment[k] = v;
        }
        string command = string.Join(' ', [file, .. info.ArgumentList]);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"`{file}` is not installed ({e.Message}); {Packages.Hint(file)}", e);
        }
        using (process)
        {
            var output = new StringBuilder();
            var error = new StringBuilder();
            // WaitForExit(timeout) does not wait for the last output events; each stream's end (null) is awaited below.
            using var ended = new CountdownEvent(2);
            process.OutputDataReceived += (_, e) => Collect(output, e.Data, ended);
            process.ErrorDataReceived += (_, e) => Collect(error, e.Data, ended);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (input is not null) process.StandardInput.Write(input);
            process.StandardInput.Close();
            var limit = timeout ?? Patience;
            if (!process.WaitForExit(limit))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
                catch (InvalidOperationException)
                {
                }
                Assert.Fail($"`{command}` did not finish within {limit}\nstdout:\n{output}\nstderr:\n{error}");
            }
            // The output streams end when the process and whatever inherited them are gone; bounded.
            Assert.True(ended.Wait(TimeSpan.FromSeconds(30)), $"`{command}` exited but its output did not end: a child kept it open");
            lock (output) lock (error) return new ToolResult(command, process.ExitCode, output.ToString(), error.ToString());
        }
    }

    static void Collect(StringBuilder text, string? line, CountdownEvent ended)
    {
        if (line is null)
        {
            ended.Signal();
            return;
        }
        lock (text) text.AppendLine(line);
    }

    public static ToolResult Run(string file, params string[] args) => Run(file, (IEnumerable<string>)args);

    /// <summary>The dotnet host that runs this test, so children use the same runtime.</summary>
    public static string Dotnet
    {
        get
        {
            string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (host is not null && File.Exists(host)) return host;
            string? self = Environment.ProcessPath;
            return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        }
    }
}

/// <summary>The Debian packages these tests need: scripts/test.sh installs them (ask for them there).</summary>
static class Packages
{
    static readonly Dictionary<string, string> ByCommand = new()
    {
        ["docker-compose"] = "docker-compose",
        ["python3"] = "python3-yaml (with docker-compose)",
        ["systemd-analyze"] = "systemd",
        ["apt-cache"] = "apt",
        ["ip"] = "iproute2",
        ["bash"] = "bash",
    };

    public static string Hint(string command) =>
        ByCommand.TryGetValue(Path.GetFileName(command), out string? package)
            ? $"install the Debian package {package} (scripts/test.sh should)"
            : "install it";
}
