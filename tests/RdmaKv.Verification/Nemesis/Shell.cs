using System.Diagnostics;

namespace RdmaKv.Verification.Nemesis;

/// <summary>Runs system tools (ip, mount, df) and fails with what they printed.</summary>
static class Shell
{
    public static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"could not run {file}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(30_000)) throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Result}");
        return output;
    }

    /// <summary>Cleanup of what may not exist: failures are ignored.</summary>
    public static void TryRun(string file, params string[] args)
    {
        try
        {
            Run(file, args);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public static bool IsRoot => Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root";

    public static void RequireRoot(string what)
    {
        if (!IsRoot) throw new InvalidOperationException($"{what} needs root (CI runs as root)");
    }
}
