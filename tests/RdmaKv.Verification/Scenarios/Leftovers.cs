using System.Diagnostics;
using RdmaKv.Verification.Nemesis;

namespace RdmaKv.Verification.Scenarios;

/// <summary>
/// What a scenario process creates outside itself (node processes, directories, shared memory,
/// mounts, network namespaces), written down as it is made, so the parent can remove it when the
/// scenario process dies without cleaning up (a client access violation aborts it).
/// </summary>
static class Leftovers
{
    const string Variable = "RDMAKV_VERIFY_LEFTOVERS";
    static readonly object Gate = new();

    /// <summary>Notes a thing to remove: kind is pid (with the node's name), dir, mount, link or netns.</summary>
    public static void Record(string kind, string value)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } file) return;
        lock (Gate) File.AppendAllText(file, $"{kind} {value}\n");
    }

    public static Dictionary<string, string> ChildEnvironment(string file) => new() { [Variable] = file };

    /// <summary>Removes everything the file lists (what is already gone is skipped), then the file.</summary>
    public static void CleanUp(string file)
    {
        if (!File.Exists(file)) return;
        var items = File.ReadAllLines(file).Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).ToList();
        foreach (var p in items.Where(p => p[0] == "pid").Select(p => p[1].Split(' ')))
            Kill(int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), p[1]);
        foreach (var p in items.Where(p => p[0] == "mount")) Shell.TryRun("umount", "-l", p[1]);
        foreach (var p in items.Where(p => p[0] == "link")) Shell.TryRun("ip", "link", "del", p[1]);
        foreach (var p in items.Where(p => p[0] == "netns")) Shell.TryRun("ip", "netns", "del", p[1]);
        foreach (var p in items.Where(p => p[0] == "dir"))
        {
            try
            {
                if (Directory.Exists(p[1])) Directory.Delete(p[1], recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        File.Delete(file);
    }

    /// <summary>Kills a node process the scenario started, if that pid is still the node of that name.</summary>
    static void Kill(int pid, string name)
    {
        try
        {
            string cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (!cmdline.Contains(name, StringComparison.Ordinal)) return;
            using var p = Process.GetProcessById(pid);
            p.Kill(entireProcessTree: true);
            p.WaitForExit(30_000);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
        }
    }
}
