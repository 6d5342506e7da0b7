using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// Compiles a C program against the installed UCX headers (libucx-dev) and checks that every
/// struct this library mirrors has the size and field offsets the C compiler gives it.
/// </summary>
public sealed class StructLayoutTests
{
    // C struct, C field, mirror, mirror field
    static readonly (string CType, string CField, Type Mirror, string Field)[] Fields =
    [
        ("ucp_params_t", "field_mask", typeof(UcpParams), nameof(UcpParams.FieldMask)),
        ("ucp_params_t", "features", typeof(UcpParams), nameof(UcpParams.Features)),
        ("ucp_params_t", "request_size", typeof(UcpParams), nameof(UcpParams.RequestSize)),
        ("ucp_params_t", "request_init", typeof(UcpParams), nameof(UcpParams.RequestInit)),
        ("ucp_params_t", "request_cleanup", typeof(UcpParams), nameof(UcpParams.RequestCleanup)),
        ("ucp_params_t", "tag_sender_mask", typeof(UcpParams), nameof(UcpParams.TagSenderMask)),
        ("ucp_params_t", "mt_workers_shared", typeof(UcpParams), nameof(UcpParams.MtWorkersShared)),
        ("ucp_params_t", "estimated_num_eps", typeof(UcpParams), nameof(UcpParams.EstimatedNumEps)),
        ("ucp_params_t", "estimated_num_ppn", typeof(UcpParams), nameof(UcpParams.EstimatedNumPpn)),
        ("ucp_params_t", "name", typeof(UcpParams), nameof(UcpParams.Name)),
        ("ucp_worker_params_t", "field_mask", typeof(UcpWorkerParams), nameof(UcpWorkerParams.FieldMask)),
        ("ucp_worker_params_t", "thread_mode", typeof(UcpWorkerParams), nameof(UcpWorkerParams.ThreadMode)),
        ("ucp_worker_params_t", "cpu_mask", typeof(UcpWorkerParams), nameof(UcpWorkerParams.CpuMask)),
        ("ucp_worker_params_t", "events", typeof(UcpWorkerParams), nameof(UcpWorkerParams.Events)),
        ("ucp_worker_params_t", "user_data", typeof(UcpWorkerParams), nameof(UcpWorkerParams.UserData)),
        ("ucp_worker_params_t", "event_fd", typeof(UcpWorkerParams), nameof(UcpWorkerParams.EventFd)),
        ("ucp_worker_params_t", "flags", typeof(UcpWorkerParams), nameof(UcpWorkerParams.Flags)),
        ("ucp_worker_params_t", "name", typeof(UcpWorkerParams), nameof(UcpWorkerParams.Name)),
        ("ucp_worker_params_t", "am_alignment", typeof(UcpWorkerParams), nameof(UcpWorkerParams.AmAlignment)),
        ("ucp_worker_params_t", "client_id", typeof(UcpWorkerParams), nameof(UcpWorkerParams.ClientId)),
        ("ucs_sock_addr_t", "addr", typeof(UcsSockAddr), nameof(UcsSockAddr.Addr)),
        ("ucs_sock_addr_t", "addrlen", typeof(UcsSockAddr), nameof(UcsSockAddr.AddrLength)),
        ("ucp_ep_params_t", "field_mask", typeof(UcpEpParams), nameof(UcpEpParams.FieldMask)),
        ("ucp_ep_params_t", "address", typeof(UcpEpParams), nameof(UcpEpParams.Address)),
        ("ucp_ep_params_t", "err_mode", typeof(UcpEpParams), nameof(UcpEpParams.ErrMode)),
        ("ucp_ep_params_t", "err_handler.cb", typeof(UcpEpParams), nameof(UcpEpParams.ErrCallback)),
        ("ucp_ep_params_t", "err_handler.arg", typeof(UcpEpParams), nameof(UcpEpParams.ErrArg)),
        ("ucp_ep_params_t", "user_data", typeof(UcpEpParams), nameof(UcpEpParams.UserData)),
        ("ucp_ep_params_t", "flags", typeof(UcpEpParams), nameof(UcpEpParams.Flags)),
        ("ucp_ep_params_t", "sockaddr", typeof(UcpEpParams), nameof(UcpEpParams.SockAddr)),
        ("ucp_ep_params_t", "conn_request", typeof(UcpEpParams), nameof(UcpEpParams.ConnRequest)),
        ("ucp_ep_params_t", "name", typeof(UcpEpParams), nameof(UcpEpParams.Name)),
        ("ucp_ep_params_t", "local_sockaddr", typeof(UcpEpParams), nameof(UcpEpParams.LocalSockAddr)),
        ("ucp_mem_map_params_t", "field_mask", typeof(UcpMemMapParams), nameof(UcpMemMapParams.FieldMask)),
        ("ucp_mem_map_params_t", "address", typeof(UcpMemMapParams), nameof(UcpMemMapParams.Address)),
        ("ucp_mem_map_params_t", "length", typeof(UcpMemMapParams), nameof(UcpMemMapParams.Length)),
        ("ucp_mem_map_params_t", "flags", typeof(UcpMemMapParams), nameof(UcpMemMapParams.Flags)),
        ("ucp_mem_map_params_t", "prot", typeof(UcpMemMapParams), nameof(UcpMemMapParams.Prot)),
        ("ucp_mem_map_params_t", "memory_type", typeof(UcpMemMapParams), nameof(UcpMemMapParams.MemoryType)),
        ("ucp_request_param_t", "op_attr_mask", typeof(UcpRequestParam), nameof(UcpRequestParam.OpAttrMask)),
        ("ucp_request_param_t", "flags", typeof(UcpRequestParam), nameof(UcpRequestParam.Flags)),
        ("ucp_request_param_t", "request", typeof(UcpRequestParam), nameof(UcpRequestParam.Request)),
        ("ucp_request_param_t", "cb", typeof(UcpRequestParam), nameof(UcpRequestParam.Callback)),
        ("ucp_request_param_t", "datatype", typeof(UcpRequestParam), nameof(UcpRequestParam.Datatype)),
        ("ucp_request_param_t", "user_data", typeof(UcpRequestParam), nameof(UcpRequestParam.UserData)),
        ("ucp_request_param_t", "reply_buffer", typeof(UcpRequestParam), nameof(UcpRequestParam.ReplyBuffer)),
        ("ucp_request_param_t", "memory_type", typeof(UcpRequestParam), nameof(UcpRequestParam.MemoryType)),
        ("ucp_request_param_t", "recv_info", typeof(UcpRequestParam), nameof(UcpRequestParam.RecvInfo)),
        ("ucp_request_param_t", "memh", typeof(UcpRequestParam), nameof(UcpRequestParam.Memh)),
        ("ucp_am_handler_param_t", "field_mask", typeof(UcpAmHandlerParam), nameof(UcpAmHandlerParam.FieldMask)),
        ("ucp_am_handler_param_t", "id", typeof(UcpAmHandlerParam), nameof(UcpAmHandlerParam.Id)),
        ("ucp_am_handler_param_t", "flags", typeof(UcpAmHandlerParam), nameof(UcpAmHandlerParam.Flags)),
        ("ucp_am_handler_param_t", "cb", typeof(UcpAmHandlerParam), nameof(UcpAmHandlerParam.Callback)),
        ("ucp_am_handler_param_t", "arg", typeof(UcpAmHandlerParam), nameof(UcpAmHandlerParam.Arg)),
        ("ucp_am_recv_param_t", "recv_attr", typeof(UcpAmRecvParam), nameof(UcpAmRecvParam.RecvAttr)),
        ("ucp_am_recv_param_t", "reply_ep", typeof(UcpAmRecvParam), nameof(UcpAmRecvParam.ReplyEp)),
    ];

    [Fact]
    public void EveryMirroredStructMatchesTheInstalledHeaders()
    {
        var c = CompileAndRun();
        var mismatches = new List<string>();
        foreach (var (cType, cField, mirror, field) in Fields)
        {
            long expected = c[$"{cType}.{cField}"];
            long actual = Marshal.OffsetOf(mirror, field).ToInt64();
            if (expected != actual) mismatches.Add($"{cType}.{cField} at {expected}, {mirror.Name}.{field} at {actual}");
        }
        foreach (var (cType, mirror) in Fields.Select(f => (f.CType, f.Mirror)).Distinct())
        {
            long expected = c[$"sizeof {cType}"];
            long actual = Marshal.SizeOf(mirror);
            if (expected != actual) mismatches.Add($"sizeof {cType} is {expected}, of {mirror.Name} {actual}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.True(c.Count > Fields.Length, "the C program printed too little");
    }

    [Fact]
    public void ConstantsMatchTheInstalledHeaders()
    {
        var c = CompileAndRun();
        var mirrors = new Dictionary<string, long>
        {
            ["UCP_API_MAJOR"] = Ucp.ApiMajor,
            ["UCP_API_MINOR"] = Ucp.ApiMinor,
            ["UCP_AM_RECV_ATTR_FLAG_RNDV"] = (long)Ucp.AmRecvAttrRendezvous,
            ["UCP_AM_RECV_ATTR_FLAG_DATA"] = (long)Ucp.AmRecvAttrData,
            ["UCP_ERR_HANDLING_MODE_PEER"] = Ucp.ErrHandlingModePeer,
            ["UCS_THREAD_MODE_SINGLE"] = Ucp.ThreadModeSingle,
            ["UCS_THREAD_MODE_SERIALIZED"] = Ucp.ThreadModeSerialized,
            ["UCP_MEM_MAP_PROT_REMOTE_READ"] = Ucp.ProtRemoteRead,
            ["UCP_FEATURE_AM"] = (long)Ucp.FeatureAm,
            ["UCP_EP_PARAM_FIELD_REMOTE_ADDRESS"] = (long)Ucp.EpParamRemoteAddress,
        };
        var wrong = mirrors.Where(m => c[m.Key] != m.Value).Select(m => $"{m.Key} is {c[m.Key]} in the headers, {m.Value} here").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    static Dictionary<string, long> s_cached = [];

    static Dictionary<string, long> CompileAndRun([CallerFilePath] string here = "")
    {
        lock (Fields)
        {
            if (s_cached.Count > 0) return s_cached;
            string dir = Directory.CreateTempSubdirectory("rdmakv-ucx-layout-").FullName;
            try
            {
                string source = Path.Combine(dir, "layout.c"), binary = Path.Combine(dir, "layout");
                File.WriteAllText(source, Program());
                Run("gcc", ["-o", binary, source], "compiling the layout check against the UCX headers (apt-get install -y libucx-dev gcc)");
                string output = Run(binary, [], "running the layout check");
                s_cached = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split('='))
                    .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
                return s_cached;
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    static string Program()
    {
        var lines = new List<string>
        {
            "#include <stdio.h>", "#include <stddef.h>", "#include <netinet/in.h>", "#include <ucp/api/ucp.h>",
            "#define OFF(t, f) printf(\"%s.%s=%zu\\n\", #t, #f, offsetof(t, f))",
            "#define SIZE(t) printf(\"sizeof %s=%zu\\n\", #t, sizeof(t))",
            "#define VALUE(c) printf(\"%s=%lld\\n\", #c, (long long)(c))",
            "int main(void) {",
        };
        foreach (var (cType, cField, _, _) in Fields) lines.Add($"OFF({cType}, {cField});");
        foreach (string cType in Fields.Select(f => f.CType).Distinct()) lines.Add($"SIZE({cType});");
        foreach (string constant in new[] { "UCP_API_MAJOR", "UCP_API_MINOR", "UCP_AM_RECV_ATTR_FLAG_RNDV", "UCP_AM_RECV_ATTR_FLAG_DATA",
            "UCP_ERR_HANDLING_MODE_PEER", "UCS_THREAD_MODE_SINGLE", "UCS_THREAD_MODE_SERIALIZED", "UCP_MEM_MAP_PROT_REMOTE_READ", "UCP_FEATURE_AM", "UCP_EP_PARAM_FIELD_REMOTE_ADDRESS" })
            lines.Add($"VALUE({constant});");
        lines.Add("return 0; }");
        return string.Join("\n", lines) + "\n";
    }

    static string Run(string file, string[] args, string what)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"{what}: could not start {file}");
        string output = p.StandardOutput.ReadToEnd();
        string errors = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), $"{what}: {file} did not finish");
        Assert.True(p.ExitCode == 0, $"{what} failed ({p.ExitCode}):\n{errors}");
        return output;
    }
}
