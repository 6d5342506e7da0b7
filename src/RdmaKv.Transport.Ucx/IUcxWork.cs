namespace RdmaKv.Transport.Ucx;

/// <summary>Work that must run on a worker's progress thread (every UCX call on the worker does).</summary>
public interface IUcxWork
{
    void Run(UcxWorker worker);
}
