using System.Runtime.InteropServices;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>What a client connection runs on its worker (on the progress thread or a driving caller); every UCX call happens here.</summary>
public sealed unsafe partial class UcxClientConnection
{
    /// <summary>One ucp_get_nbx into <paramref name="op"/>'s buffer at <paramref name="at"/>; completes a part of it. While holding the worker.</summary>
    void IssueRead(UcxOperation op, int at, RemoteRegion region, long offset, int length)
    {
        var p = new UcpRequestParam
        {
            OpAttrMask = Ucp.OpAttrCallback | Ucp.OpAttrUserData,
            Callback = (nint)(delegate* unmanaged<nint, int, nint, void>)&OnReadDone,
            UserData = op.Cookie,
        };
        nint request = Ucp.GetNbx(_ep, op.Buffer + at, (nuint)length, region.Address + (ulong)offset, region.Key, &p);
        if (request == 0) op.Complete(0);
        else if (Ucp.IsError(request)) op.Complete(Ucp.StatusOf(request));
    }

    sealed class ConnectWork(UcxClientConnection connection, byte[] node) : IUcxWork
    {
        public readonly ManualResetEventSlim Done = new();
        public string? Error;

        public void Run(UcxWorker worker)
        {
            try
            {
                UcxMessaging.Register(worker, UcxMessaging.ReplyId, connection, connection._options.MaxReplyLength);
                UcxMessaging.Register(worker, MessageReads.ReplyId, new ReadReplies(connection), MessageReads.ReplyHeader + MessageReads.MaxReplyBytes);
                connection._self = GCHandle.Alloc(connection);
                nint ep;
                fixed (byte* address = node)
                {
                    var p = new UcpEpParams
                    {
                        FieldMask = Ucp.EpParamRemoteAddress | Ucp.EpParamErrHandlingMode | Ucp.EpParamErrHandler,
                        Address = (nint)address,
                        ErrMode = Ucp.ErrHandlingModePeer,
                        ErrCallback = (nint)(delegate* unmanaged<nint, nint, int, void>)&OnEndpointError,
                        ErrArg = GCHandle.ToIntPtr(connection._self),
                    };
                    UcxException.Check(Ucp.EpCreate(worker.RawWorker, &p, &ep), "ucp_ep_create");
                }
                connection._endpoint = new UcpEndpointHandle(ep, worker.Worker);
                connection._ep = ep;
                worker.Stopping += _ => connection.CloseOnProgressThread();
            }
            catch (Exception e)
            {
                Error = e.Message;
            }
            finally
            {
                Done.Set();
            }
        }
    }

    sealed class SendWork(UcxClientConnection connection, UcxOperation op, ulong id, byte[] frame) : IUcxWork
    {
        /// <summary>UCX took the message: from then on the node may have it.</summary>
        public volatile bool Sent;

        public void Run(UcxWorker worker)
        {
            if (connection._ep == 0)
            {
                op.Complete(-24); // UCS_ERR_NOT_CONNECTED
                return;
            }
            connection._calls[id] = op;
            int status = UcxMessaging.Send(connection._ep, UcxMessaging.RequestId, id, frame, wantReply: true);
            if (status == 0) Sent = true;
            else if (connection._calls.Remove(id)) op.Complete(status);
        }
    }

    sealed class ForgetWork(UcxClientConnection connection, ulong id) : IUcxWork
    {
        public void Run(UcxWorker worker) => connection._calls.Remove(id);
    }

    sealed class CloseWork(UcxClientConnection connection) : IUcxWork
    {
        public void Run(UcxWorker worker) => connection.CloseOnProgressThread();
    }

    sealed class AttachWork(UcxClientConnection connection, int partition, ulong generation, long length, ulong remoteAddress, byte[]? remoteKey) : IUcxWork
    {
        public readonly ManualResetEventSlim Done = new();
        public RemoteRegion? Region;
        public string? Error;

        public void Run(UcxWorker worker)
        {
            try
            {
                if (connection._ep == 0) throw new IOException(connection._failure ?? "not connected");
                if (remoteKey is null)
                {
                    Region = new RemoteRegion(partition, generation, length);
                }
                else
                {
                    nint rkey;
                    fixed (byte* packed = remoteKey)
                        UcxException.Check(Ucp.EpRkeyUnpack(connection._ep, packed, &rkey), "ucp_ep_rkey_unpack");
                    Region = new RemoteRegion(new UcpRemoteKeyHandle(rkey, connection._endpoint!), partition, generation, remoteAddress, length);
                }
                connection._regions.Add(Region);
            }
            catch (Exception e)
            {
                Error = e.Message;
            }
            finally
            {
                Done.Set();
            }
        }
    }

    sealed class ManyReadWork(UcxClientConnection connection, UcxOperation op, ReadPart[] parts) : IUcxWork
    {
        public void Run(UcxWorker worker)
        {
            int at = 0;
            foreach (var part in parts)
            {
                if (connection._ep == 0 || part.Region.IsClosed)
                {
                    op.Complete(-24);
                    continue;
                }
                connection.IssueRead(op, at, part.Region, part.Offset, part.Length);
                at += part.Length;
            }
        }
    }

    /// <summary>One thread's READ (one or two parts), reused for every GET that thread makes.</summary>
    sealed class ReadWork : IUcxWork
    {
        public readonly UcxOperation Operation = new();
        UcxClientConnection? _connection;
        RemoteRegion? _region;
        long _offsetA, _offsetB;
        int _lengthA, _lengthB;

        public void Set(UcxClientConnection connection, RemoteRegion region, long offsetA, int lengthA, long offsetB, int lengthB)
        {
            _connection = connection;
            _region = region;
            _offsetA = offsetA;
            _lengthA = lengthA;
            _offsetB = offsetB;
            _lengthB = lengthB;
        }

        public void Run(UcxWorker worker)
        {
            var op = Operation;
            if (_connection!._ep == 0 || _region!.IsClosed)
            {
                op.Complete(-24);
                if (_offsetB >= 0) op.Complete(-24);
                return;
            }
            if (!_region.OneSided)
            {
                var a = new MessageReadPart(_region.Partition, _region.Generation, _offsetA, _lengthA);
                if (_offsetB < 0) _connection.IssueMessageRead(op, 0, [a]);
                else _connection.IssueMessageRead(op, 0, [a, new MessageReadPart(_region.Partition, _region.Generation, _offsetB, _lengthB)]);
                return;
            }
            _connection.IssueRead(op, 0, _region, _offsetA, _lengthA);
            if (_offsetB >= 0) _connection.IssueRead(op, _lengthA, _region, _offsetB, _lengthB);
        }

    }
}
