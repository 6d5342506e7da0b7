using RdmaKv.Client;
using RdmaKv.Core;

namespace RdmaKv.Cli;

/// <summary>What every verb shares: connecting, turning failures into messages and exit codes, raw I/O.</summary>
static class Verbs
{
    /// <summary>
    /// Connects to <paramref name="uri"/> (with the client token from <paramref name="tokenFile"/>
    /// when given) and runs the verb; failures become one line on standard error and an
    /// <see cref="ExitCode"/>: 2 the request failed, 3 no node to talk to, 64 the address is not one.
    /// </summary>
    public static int Run(string uri, string? tokenFile, Func<KvClient, int> verb)
    {
        var options = new KvClientOptions();
        if (tokenFile is not null)
        {
            if (!File.Exists(tokenFile)) return ExitCode.UsageError($"--token-file {tokenFile}: no such file (the node writes its client token to DATA_DIR/client-token)");
            options = new KvClientOptions { Credential = File.ReadAllText(tokenFile).Trim() };
        }
        KvClient client;
        try
        {
            client = KvClient.Connect(uri, options);
        }
        catch (ArgumentException e)
        {
            return ExitCode.UsageError($"--connect: {ErrorText.Of(e)}");
        }
        catch (KvConnectionException e)
        {
            Console.Error.WriteLine($"rdmakv: {OneLine(e.Message)}");
            return ExitCode.Unreachable;
        }
        catch (Exception e) when (e is KvException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"rdmakv: {uri}: {OneLine(e.Message)}");
            return ExitCode.Failed;
        }
        using (client)
        {
            try
            {
                return verb(client);
            }
            catch (KvConnectionException e)
            {
                Console.Error.WriteLine($"rdmakv: {OneLine(e.Message)}");
                return ExitCode.Unreachable;
            }
            catch (Exception e) when (e is KvException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"rdmakv: {OneLine(ErrorText.Of(e))}");
                return ExitCode.Failed;
            }
        }
    }

    static string OneLine(string message) => message.ReplaceLineEndings(" ");

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
