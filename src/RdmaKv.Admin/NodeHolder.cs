namespace RdmaKv.Admin;

/// <summary>
/// The node the admin plane serves. The admin plane starts before the node (so /health/live
/// answers and /health/ready says "starting" during recovery) and lets go of it before the node
/// stops; between those, endpoints that need the node answer 503.
/// </summary>
public sealed class NodeHolder
{
    volatile IAdminNode? _node;

    public IAdminNode? Node => _node;

    public void Attach(IAdminNode node) => _node = node;

    public void Detach() => _node = null;
}
