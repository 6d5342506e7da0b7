using Grpc.Core;

namespace RdmaKv.Coordination;

/// <summary>etcd could not be reached, or refused a call; the message names the endpoints and why.</summary>
public sealed class CoordinationException : Exception
{
    /// <summary>Creates one with <paramref name="message"/> and the failure behind it.</summary>
    public CoordinationException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>A short reason for logs and health: the gRPC status and detail, or the exception's message.</summary>
    internal static string Describe(Exception e) => (e switch
    {
        RpcException rpc => string.IsNullOrEmpty(rpc.Status.Detail) ? rpc.StatusCode.ToString() : $"{rpc.StatusCode}: {rpc.Status.Detail}",
        OperationCanceledException => "no answer in time",
        _ => $"{e.GetType().Name}: {e.Message}",
    }).TrimEnd('.');

    /// <summary>Failures that mean "etcd did not answer" rather than a bug in the caller.</summary>
    internal static bool IsEtcdFailure(Exception e) => e is RpcException or OperationCanceledException or IOException or HttpRequestException;
}
