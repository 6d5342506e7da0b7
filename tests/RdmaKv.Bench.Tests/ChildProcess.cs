using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace RdmaKv.Bench.Tests;

/// <summary>A repository binary (rdmakv-server, rdmakv) run as a child with the same dotnet host; Dispose kills it and its children.</summary>
sealed partial class ChildProcess : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    readonly Process _process;
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();
    readonly object _gate = new();
    int _streamsOpen = 2;

    public ChildProcess(string dll, params string[] args)
    {
        string path = Path.Combine(AppContext.BaseDirectory, dll);
        Assert.True(File.Exists(path), $"{path} is missing from the test output folder");
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(path);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("RDMAKV_CONNECT");
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public string Output
    {
        get
        {
            lock (_gate) return _stdout.ToString();
        }
    }

    public string Errors
    {
        get
        {
            lock (_gate) return _stderr.ToString();
        }
    }

    static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    /// <summary>Waits until stdout holds <paramref name="text"/>; fails at once if the child exits first.</summary>
    public void WaitForOutput(string text)
    {
        long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        lock (_gate)
        {
            while (!_stdout.ToString().Contains(text, StringComparison.Ordinal))
            {
                long left = deadline - Environment.TickCount64;
                Assert.True(_streamsOpen > 0, $"the child exited before printing \"{text}\":\n{_stdout}\n{_stderr}");
                Assert.True(left > 0, $"the child did not print \"{text}\" within {Patience}:\n{_stdout}\n{_stderr}");
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left));
            }
        }
    }

    /// <summary>Waits for the child to exit and its output to drain; returns the exit code.</summary>
    public int WaitForExit()
    {
        Assert.True(_process.WaitForExit(Patience), $"the child did not exit within {Patience}:\n{Output}\n{Errors}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM (a node then removes its shared memory) and waits for the exit code.</summary>
    public int Stop()
    {
        Assert.Equal(0, kill(_process.Id, 15));
        return WaitForExit();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    void Append(StringBuilder to, string? line)
    {
        lock (_gate)
        {
            if (line is null) _streamsOpen--;
            else to.AppendLine(line);
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(Patience);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
