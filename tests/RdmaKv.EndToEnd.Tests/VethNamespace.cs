using System.Diagnostics;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// A network namespace joined to this one by a veth pair on a /30: <see cref="HostAddress"/>
/// (10.NET.X.1) on this side, <see cref="NodeAddress"/> (10.NET.X.2) inside, X random. Needs root
/// (fails loudly without it). Dispose removes the link and the namespace, even half-made.
/// </summary>
sealed class VethNamespace : IDisposable
{
    readonly string _id = Guid.NewGuid().ToString("N")[..6];
    readonly int _subnet = Random.Shared.Next(1, 250);
    readonly int _net;

    /// <param name="net">The second octet of the subnet (each test class its own, so two never share one).</param>
    public VethNamespace(string prefix, int net)
    {
        if (!(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root"))
            throw new InvalidOperationException("this test builds a network namespace and needs root (CI runs as root)");
        _net = net;
        Name = prefix + _id;
        try
        {
            Ip("netns", "add", Name);
            Ip("link", "add", HostSide, "type", "veth", "peer", "name", NodeSide);
            Ip("link", "set", NodeSide, "netns", Name);
            Ip("addr", "add", $"{HostAddress}/30", "dev", HostSide);
            Ip("link", "set", HostSide, "up");
            Inside("ip", "addr", "add", $"{NodeAddress}/30", "dev", NodeSide);
            Inside("ip", "link", "set", NodeSide, "up");
            Inside("ip", "link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }
    public string HostSide => "rkv" + _id + "h";
    public string NodeSide => "rkv" + _id + "n";
    public string HostAddress => $"10.{_net}.{_subnet}.1";
    public string NodeAddress => $"10.{_net}.{_subnet}.2";

    /// <summary>The prefix that runs a program inside the namespace.</summary>
    public string[] Exec => ["ip", "netns", "exec", Name];

    /// <summary>Runs a program inside the namespace; throws with its stderr when it fails.</summary>
    public void Inside(params string[] command) => Ip(["netns", "exec", Name, .. command]);

    public static void Ip(params string[] args) => Run("ip", args);

    /// <summary>Runs a program here (e.g. tc on the host side); throws with its stderr when it fails.</summary>
    public static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"could not run {program} (Debian package iproute2)");
        var output = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(30_000)) throw new InvalidOperationException($"{program} {string.Join(' ', args)} did not finish");
        _ = output.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {err}");
    }

    static void TryIp(params string[] args)
    {
        try
        {
            Ip(args);
        }
        catch (InvalidOperationException)
        {
            // cleanup of what may not exist
        }
    }

    public void Dispose()
    {
        TryIp("link", "del", HostSide);
        TryIp("netns", "del", Name);
    }
}
