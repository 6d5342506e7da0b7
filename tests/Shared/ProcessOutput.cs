using System.Diagnostics;
using System.Text;
using Xunit;

namespace RdmaKv.Tests;

/// <summary>
/// A child process's standard output and error, collected line by line as they arrive, and a wait
/// for a text that fails with everything the child printed. Linked into every test project that
/// runs repository binaries (the server, the CLI) as children.
/// </summary>
sealed class ProcessOutput
{
    readonly object _gate = new();
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();
    int _streamsOpen = 2;

    /// <summary>Starts reading <paramref name="process"/>'s redirected output; call right after starting it.</summary>
    public ProcessOutput(Process process)
    {
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout
    {
        get
        {
            lock (_gate) return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate) return _stderr.ToString();
        }
    }

    /// <summary>Waits until stdout holds <paramref name="text"/>; fails at once if the child closes its output (exits) first.</summary>
    public void WaitFor(string text, string who, TimeSpan patience)
    {
        long deadline = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        lock (_gate)
        {
            while (!_stdout.ToString().Contains(text, StringComparison.Ordinal))
            {
                long left = deadline - Environment.TickCount64;
                Assert.True(_streamsOpen > 0, $"{who} exited before printing \"{text}\":\n{_stdout}\n{_stderr}");
                Assert.True(left > 0, $"{who} did not print \"{text}\" within {patience}:\n{_stdout}\n{_stderr}");
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left));
            }
        }
    }

    void Append(StringBuilder to, string? line)
    {
        lock (_gate)
        {
            if (line is null) _streamsOpen--;
            else to.AppendLine(line);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>A loopback TCP port that was free a moment ago (a node started on it may still lose it to a race).</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The dotnet host running these tests, so children run on the same runtime.</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
