using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// libucs reads its global options once, when the process loads it: UCX_ERROR_SIGNALS (its
/// SIGSEGV handler would abort on a managed NullReferenceException) and UCX_MEM_MMAP_HOOK_MODE
/// (its default rewrites libc's munmap and madvise in place as it loads, under the runtime's
/// threads, the GC among them, which may be inside them). Whatever loads UCX prepares the
/// environment first, so in this process, as in a node or a client, UCX took neither.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public sealed unsafe partial class ProcessSettingsTests
{
    const int VmUnmapped = 1 << 17; // UCM_EVENT_VM_UNMAPPED
    const int Unsupported = -22;    // UCS_ERR_UNSUPPORTED

    [Fact]
    public void UcxLoadsWithoutItsErrorSignalHandlersOrMemoryHooks()
    {
        Assert.True(UcxEnvironment.IsAvailable(out string? problem), problem);
        var signals = new byte[256];
        fixed (byte* n = "ERROR_SIGNALS\0"u8)
        fixed (byte* v = signals)
            Assert.Equal(0, ucs_global_opts_get_value(n, v, (nuint)signals.Length));
        Assert.Equal("", Encoding.ASCII.GetString(signals, 0, Array.IndexOf(signals, (byte)0)));

        // Asking for unmap events installs the hooks when the mode allows any; with none UCX refuses.
        int status = ucm_set_event_handler(VmUnmapped, 0, &Ignore, 0);
        if (status == 0) ucm_unset_event_handler(VmUnmapped, &Ignore, 0);
        Assert.True(status == Unsupported, $"UCX installed its memory hooks in this process (ucm_set_event_handler returned {status})");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static void Ignore(int eventType, nint @event, nint arg)
    {
    }

    [LibraryImport("libucs.so.0")]
    private static partial int ucs_global_opts_get_value(byte* name, byte* value, nuint max);

    [LibraryImport("libucm.so.0")]
    private static partial int ucm_set_event_handler(int events, int priority, delegate* unmanaged[Cdecl]<int, nint, nint, void> callback, nint arg);

    [LibraryImport("libucm.so.0")]
    private static partial void ucm_unset_event_handler(int events, delegate* unmanaged[Cdecl]<int, nint, nint, void> callback, nint arg);
}
