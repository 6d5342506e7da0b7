namespace RdmaKv.Resp;

/// <summary>A frame the parser cannot take; the connection answers "-ERR Protocol error: {Message}" and closes.</summary>
public sealed class RespProtocolException(string message) : Exception(message);
