namespace RdmaKv.Transport.Ucx;

/// <summary>How a <see cref="UcxWorker"/> makes its context and drives its progress thread.</summary>
public sealed record UcxWorkerOptions
{
    /// <summary>How long an idle progress thread busy-polls before it sleeps on the event fd.</summary>
    public TimeSpan Spin { get; init; } = TimeSpan.FromMicroseconds(200);

    /// <summary>
    /// Whether the context has UCX's RMA feature. A node that serves READs as messages turns it
    /// off: then no peer's ucp_get reaches UCX's software RMA path, which copies from any address
    /// a request names and aborts the process when a reply meets a failed endpoint.
    /// </summary>
    public bool Rma { get; init; } = true;

    /// <summary>
    /// How many endpoints this context is expected to hold (ucp_params_t.estimated_num_eps), or 0
    /// to leave UCX's default of 1. UCX weighs each transport's per-endpoint cost by it, so on a
    /// ConnectX NIC a large count makes it choose the dynamically connected transport (DC, a few
    /// shared QPs) over RC (one QP per peer, which outgrows the NIC's connection cache). The default
    /// is a node's: the clients it expects (docs/RDMA.md). UCX_NUM_EPS, when set, overrides it.
    /// </summary>
    public int EstimatedEndpoints { get; init; } = DefaultNodeEndpoints;

    /// <summary>A node's default <see cref="EstimatedEndpoints"/>: the clients it expects to serve.</summary>
    public const int DefaultNodeEndpoints = 1024;

    /// <summary>Runs on the progress thread right after the worker exists (register handlers here).</summary>
    public Action<UcxWorker>? OnCreated { get; init; }
}
