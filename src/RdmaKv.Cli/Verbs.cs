using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Cli;

/// <summary>What every verb shares: connecting, turning failures into messages and exit codes, raw I/O.</summary>
static class Verbs
{
    /// <summary>Exit codes: 0 done, 1 not found, 2 the request failed, 3 no connection.</summary>
    public static int Run(string uri, Func<KvClient, int> verb)
    {
        try
        {
            using var client = KvClient.Connect(uri);
            return verb(client);
        }
        catch (KvConnectionException e)
        {
            Console.Error.WriteLine($"rdmakv: {e.Message}");
            return 3;
        }
        catch (Exception e) when (e is KvException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"rdmakv: {e.Message}");
            return 2;
        }
    }

    public static byte[] ReadStandardInput()
    {
        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        if (buffer.Length > Limits.MaxValueLength)
            throw new KvException(StoreStatus.ValueTooLong, $"standard input holds {buffer.Length} bytes");
        return buffer.ToArray();
    }

    /// <summary>Writes the value's bytes as they are; a newline follows only on a terminal.</summary>
    public static void WriteValue(byte[] value)
    {
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(value);
        if (!Console.IsOutputRedirected) stdout.Write("\n"u8);
    }
}
