using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// UCX takes the endpoint estimate a worker's options carry: ucp_init logs, at debug level,
/// "estimated number of endpoints is N". The test raises UCX's log level for one context,
/// catches the log through a pushed handler (so nothing reaches stdout) and restores both. The
/// level and the handler are global: it runs alone, or every other test's UCX threads would log
/// into the handler meanwhile.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public sealed unsafe partial class EstimatedEndpointsTests
{
    const int Estimate = 777; // no other test asks for it, so a concurrent context's line cannot pass for it
    static readonly ConcurrentQueue<string> Lines = new();

    [Fact]
    public void AWorkerCreatedWithAnEndpointEstimatePassesItToUcp()
    {
        UcxEnvironment.SetDefault("UCX_TLS", "tcp");
        UcxEnvironment.SetDefault("UCX_NET_DEVICES", "lo");
        UcxEnvironment.Prepare();
        if (UcxEnvironment.Get("UCX_NUM_EPS") is not null) Assert.Fail("UCX_NUM_EPS is set, so UCX ignores the estimate a context passes");
        var level = new byte[64];
        fixed (byte* p = level) Assert.Equal(0, GetGlobalOption("LOG_LEVEL"u8, p, (nuint)level.Length));
        PushHandler(&Capture);
        try
        {
            Assert.Equal(0, SetGlobalOption("LOG_LEVEL"u8, "debug"u8));
            using var worker = UcxWorker.Start("estimate test", new UcxWorkerOptions { EstimatedEndpoints = Estimate });
        }
        finally
        {
            fixed (byte* p = level) SetGlobalOption("LOG_LEVEL"u8, new ReadOnlySpan<byte>(p, Array.IndexOf(level, (byte)0) + 1));
            PopHandler();
        }
        Assert.Contains($"estimated number of endpoints is {Estimate}", Lines);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static int Capture(byte* file, uint line, byte* function, int level, nint component, byte* message, nint args)
    {
        byte* buffer = stackalloc byte[512];
        int n = FormatV(buffer, 512, message, args);
        if (n > 0) Lines.Enqueue(Encoding.UTF8.GetString(buffer, Math.Min(n, 511)));
        return 0; // UCS_LOG_FUNC_RC_STOP: the default handler does not print it
    }

    static int SetGlobalOption(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        fixed (byte* n = Terminated(name))
        fixed (byte* v = Terminated(value))
            return ucs_global_opts_set_value(n, v);
    }

    static int GetGlobalOption(ReadOnlySpan<byte> name, byte* value, nuint max)
    {
        fixed (byte* n = Terminated(name)) return ucs_global_opts_get_value(n, value, max);
    }

    static byte[] Terminated(ReadOnlySpan<byte> s) => s.Length > 0 && s[^1] == 0 ? s.ToArray() : [.. s, 0];

    static void PushHandler(delegate* unmanaged[Cdecl]<byte*, uint, byte*, int, nint, byte*, nint, int> handler) => ucs_log_push_handler(handler);

    static void PopHandler() => ucs_log_pop_handler();

    static int FormatV(byte* buffer, nuint size, byte* format, nint args) => vsnprintf(buffer, size, format, args);

    [LibraryImport("libucs.so.0")]
    private static partial int ucs_global_opts_set_value(byte* name, byte* value);

    [LibraryImport("libucs.so.0")]
    private static partial int ucs_global_opts_get_value(byte* name, byte* value, nuint max);

    [LibraryImport("libucs.so.0")]
    private static partial void ucs_log_push_handler(delegate* unmanaged[Cdecl]<byte*, uint, byte*, int, nint, byte*, nint, int> handler);

    [LibraryImport("libucs.so.0")]
    private static partial void ucs_log_pop_handler();

    [LibraryImport("libc")]
    private static partial int vsnprintf(byte* buffer, nuint size, byte* format, nint args);
}
