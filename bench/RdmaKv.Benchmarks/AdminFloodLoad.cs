using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using RdmaKv.Client;

namespace RdmaKv.Benchmarks;

/// <summary>
/// Local puts while the admin plane is flooded: an rdmakv-server process, one client thread
/// putting 100 B values in this process, and a flooding child process that asks an
/// unauthenticated endpoint over keep-alive connections as fast as it can. Phases alternate
/// quiet and flooded in one run, so the figures compare under the same machine load.
/// </summary>
static class AdminFloodLoad
{
    public static int Run(Dictionary<string, string> args)
    {
        int seconds = int.Parse(args.GetValueOrDefault("seconds", "5"), CultureInfo.InvariantCulture);
        int connections = int.Parse(args.GetValueOrDefault("connections", "16"), CultureInfo.InvariantCulture);
        string[] targets = args.GetValueOrDefault("paths", "/metrics,/health/live").Split(',');
        int rounds = int.Parse(args.GetValueOrDefault("rounds", "1"), CultureInfo.InvariantCulture);
        string name = $"bench-flood-{Environment.ProcessId}";
        string data = Directory.CreateTempSubdirectory("rdmakv-bench-flood-").FullName;
        int port = FreePort();
        using var server = Start(ServerStartInfo(args.GetValueOrDefault("server") ?? ServerDll(), name, data, port));
        try
        {
            WaitFor(server, "is up");
            var drain = new Thread(() => server.StandardOutput.ReadToEnd()) { IsBackground = true }; // a full pipe would stop the server
            drain.Start();
            using var client = KvClient.Connect("local:" + name);
            var value = new byte[100];
            for (int i = 0; i < 100_000; i++) client.Put(Key(i), value); // warm up: JIT tiers, every key exists
            Console.WriteLine($"phase            puts/s   p50 us   p99 us   max ms  node CPU: data, other  flood");
            var rates = new Dictionary<string, List<double>>();
            void Record(string label, double rate) => (rates.TryGetValue(label, out var list) ? list : rates[label] = []).Add(rate);
            for (int round = 0; round < rounds; round++)
            {
                Record("quiet", Phase(client, value, seconds, "quiet", null, server.Id));
                foreach (string path in targets)
                    Record("flood " + path, Phase(client, value, seconds, "flood " + path, Flooder($"http://127.0.0.1:{port}{path}", connections), server.Id));
            }
            // The machine's other load moves every phase; medians over rounds compare like with like.
            foreach (var (label, list) in rates)
                Console.WriteLine($"median of {list.Count} {label}: {list.Order().ElementAt(list.Count / 2):N0} puts/s");
            return 0;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.StandardInput.Close();
                server.Kill(); // no clean stop needed: the next start with this name sweeps its shared memory
                server.WaitForExit();
            }
            string shm = Path.Combine("/dev/shm", "rdmakv-" + name);
            if (Directory.Exists(shm)) Directory.Delete(shm, recursive: true);
            Directory.Delete(data, recursive: true);
        }
    }

    static byte[] Key(long i) => Encoding.UTF8.GetBytes($"flood:{i % 5000}");

    /// <summary>Puts for <paramref name="seconds"/> (while <paramref name="flood"/> runs, when given), prints one line, returns puts/s.</summary>
    static double Phase(KvClient client, byte[] value, int seconds, string label, Process? flood, int node)
    {
        var latencies = new List<long>(1 << 20);
        if (flood is not null) WaitFor(flood, "flooding");
        var (data0, other0) = NodeCpu(node);
        var clock = Stopwatch.StartNew();
        long end = Stopwatch.Frequency * seconds;
        for (long i = 0; clock.ElapsedTicks < end; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            client.Put(Key(i), value);
            latencies.Add(Stopwatch.GetTimestamp() - t0);
        }
        double elapsed = clock.Elapsed.TotalSeconds;
        var (data1, other1) = NodeCpu(node);
        string floodReport = "";
        if (flood is not null)
        {
            flood.StandardInput.Close(); // the child stops when its stdin closes
            floodReport = flood.StandardOutput.ReadToEnd().Trim();
            flood.WaitForExit();
            flood.Dispose();
        }
        latencies.Sort();
        double Us(double q) => latencies[(int)(q * (latencies.Count - 1))] * 1e6 / Stopwatch.Frequency;
        Console.WriteLine($"{label,-16} {latencies.Count / elapsed,7:N0} {Us(0.5),8:F1} {Us(0.99),8:F1} {Us(1) / 1000,8:F1}  {(data1 - data0) / elapsed,8:P0} {(other1 - other0) / elapsed,6:P0}   {floodReport}");
        return latencies.Count / elapsed;
    }

    /// <summary>
    /// CPU seconds the node's threads have used, from /proc: its own threads (named rdmakv-*: the
    /// local connections, the log committer) and the rest (the thread pool, which runs Kestrel and
    /// the admin plane and also FASTER's I/O completions; GC).
    /// </summary>
    static (double Data, double Other) NodeCpu(int pid)
    {
        double data = 0, other = 0;
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread ended
            }
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string[] fields = stat[(close + 2)..].Split(' ');
            double seconds = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            if (stat[(open + 1)..close].StartsWith("rdmakv-", StringComparison.Ordinal)) data += seconds;
            else other += seconds;
        }
        return (data, other);
    }

    static Process Flooder(string url, int connections)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(AdminFloodLoad).Assembly.Location);
        foreach (string a in new[] { "admin-flood-child", $"url={url}", $"connections={connections}" }) info.ArgumentList.Add(a);
        return Start(info);
    }

    /// <summary>The flooding child (mode admin-flood-child): keep-alive GETs on N connections until stdin closes, then the counts.</summary>
    public static int Child(Dictionary<string, string> args)
    {
        var url = new Uri(args["url"]);
        int connections = int.Parse(args.GetValueOrDefault("connections", "16"), CultureInfo.InvariantCulture);
        byte[] request = Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Host}:{url.Port}\r\n\r\n");
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        using var stop = new CancellationTokenSource();
        var threads = Enumerable.Range(0, connections).Select(_ => new Thread(() => Flood(url, request, statuses, stop.Token)) { IsBackground = true }).ToList();
        var clock = Stopwatch.StartNew();
        foreach (var t in threads) t.Start();
        Console.WriteLine("flooding");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        stop.Cancel();
        double elapsed = clock.Elapsed.TotalSeconds;
        long total = statuses.Values.Sum();
        Console.WriteLine($"{total / elapsed:N0} req/s ({string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value:N0}"))})");
        return 0;
    }

    /// <summary>One connection's loop; reconnects when the server closes it. Status 0 counts refused or dropped connections.</summary>
    static void Flood(Uri url, byte[] request, System.Collections.Concurrent.ConcurrentDictionary<int, long> statuses, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var tcp = new TcpClient(url.Host, url.Port) { NoDelay = true };
                using var stream = new BufferedStream(tcp.GetStream(), 64 * 1024);
                while (!stop.IsCancellationRequested)
                {
                    tcp.Client.Send(request);
                    int status = ReadResponse(stream);
                    if (status < 0) break;
                    statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                }
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                statuses.AddOrUpdate(0, 1, (_, n) => n + 1);
            }
        }
    }

    /// <summary>Reads one response (Content-Length or chunked); its status, or -1 when the connection closed.</summary>
    static int ReadResponse(Stream stream)
    {
        string? statusLine = ReadLine(stream);
        if (statusLine is null) return -1;
        long length = 0;
        bool chunked = false;
        for (string? line = ReadLine(stream); !string.IsNullOrEmpty(line); line = ReadLine(stream))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = long.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase)) chunked = true;
        }
        if (!chunked) return Skip(stream, length) ? int.Parse(statusLine.AsSpan(9, 3), CultureInfo.InvariantCulture) : -1;
        while (true)
        {
            string? size = ReadLine(stream);
            if (size is null) return -1;
            long n = long.Parse(size.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (!Skip(stream, n) || ReadLine(stream) is null) return -1;
            if (n == 0) return int.Parse(statusLine.AsSpan(9, 3), CultureInfo.InvariantCulture);
        }
    }

    static string? ReadLine(Stream stream)
    {
        var line = new StringBuilder();
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)b);
        }
        return null;
    }

    static bool Skip(Stream stream, long count)
    {
        var buffer = new byte[Math.Min(count, 64 * 1024)];
        while (count > 0)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(count, buffer.Length));
            if (n == 0) return false;
            count -= n;
        }
        return true;
    }

    static ProcessStartInfo ServerStartInfo(string dll, string name, string data, int port)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "--name", name, "--data-dir", data, "--memory", "256m", "--partitions", "4", "--listen", "none", "--admin-urls", $"http://127.0.0.1:{port}", "--checkpoint-interval", "0" })
            info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>The server as its own Release build left it, else the copy next to this assembly.</summary>
    static string ServerDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "RdmaKv.Server", "bin", "Release", "net10.0", "rdmakv-server.dll");
            if (File.Exists(Path.Combine(dir.FullName, "RdmaKv.sln")) && File.Exists(candidate)) return candidate;
        }
        return Path.Combine(AppContext.BaseDirectory, "rdmakv-server.dll");
    }

    static Process Start(ProcessStartInfo info) => Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");

    static void WaitFor(Process process, string text)
    {
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
            if (line.Contains(text, StringComparison.Ordinal)) return;
        throw new InvalidOperationException($"the child process exited before it said '{text}'");
    }

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
