using System.Runtime.InteropServices;

namespace RdmaKv.Bench;

/// <summary>The machine a run measured: what a reader needs to compare figures across machines.</summary>
public sealed record MachineInfo(
    string Host,
    int Cores,
    string? Cpu,
    long MemoryBytes,
    string Os,
    string Runtime,
    string LoadAverageAtStart,
    string? LoadAverageAtEnd)
{
    public static MachineInfo Capture() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        ReadField("/proc/cpuinfo", "model name"),
        ReadMemTotal(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        LoadAverage(),
        null);

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg: others' work on a shared machine shows here.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    static string? ReadField(string path, string name)
    {
        try
        {
            return File.ReadLines(path).Where(l => l.StartsWith(name, StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
    }

    static long ReadMemTotal()
    {
        // "MemTotal:       24684528 kB"
        string? text = ReadField("/proc/meminfo", "MemTotal");
        return text is not null && long.TryParse(text.Split(' ')[0], out long kb) ? kb * 1024 : 0;
    }
}
