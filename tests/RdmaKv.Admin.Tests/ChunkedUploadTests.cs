using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RdmaKv.Admin.Tests;

/// <summary>PUT bodies sent chunked to a real server's Kestrel: the limit counts value bytes, not the chunk framing.</summary>
[Collection(LiveServerCollection.Name)]
public sealed class ChunkedUploadTests(LiveServerFixture live)
{
    /// <summary>Sends <paramref name="value"/> chunked in pieces of <paramref name="chunk"/> bytes; returns the status.</summary>
    async Task<int> PutChunked(string key, byte[] value, int chunk)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, live.AdminUrl.Port);
        var stream = tcp.GetStream();
        using var request = new MemoryStream();
        request.Write(Encoding.ASCII.GetBytes($"PUT /api/keys/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
            $"Authorization: Bearer {live.Token}\r\nTransfer-Encoding: chunked\r\n\r\n"));
        for (int at = 0; at < value.Length; at += chunk)
        {
            int n = Math.Min(chunk, value.Length - at);
            request.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            request.Write(value, at, n);
            request.Write("\r\n"u8);
        }
        request.Write("0\r\n\r\n"u8);
        await stream.WriteAsync(request.ToArray());
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string status = await reader.ReadLineAsync() ?? "";
        return int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task<byte[]?> Stored(string key)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, $"api/keys/{key}");
        get.Headers.Authorization = new("Bearer", live.Token);
        var response = await live.Http.SendAsync(get);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsByteArrayAsync() : null;
    }

    [Fact]
    public async Task AChunkedValueJustUnderTheLimitIsStored()
    {
        // 1 MiB less 1 KiB in 1 KiB chunks: about 8 KiB of framing on top of the value.
        var value = new byte[Core.Limits.MaxValueLength - 1024];
        new Random(15).NextBytes(value);
        Assert.Equal(204, await PutChunked("chunked-under", value, 1024));
        Assert.Equal(value, await Stored("chunked-under"));
    }

    [Fact]
    public async Task AChunkedValueOfExactlyTheLimitIsStoredAndOneByteMoreIsNot()
    {
        var value = new byte[Core.Limits.MaxValueLength];
        new Random(16).NextBytes(value);
        Assert.Equal(204, await PutChunked("chunked-exact", value, 4096));
        Assert.Equal(value, await Stored("chunked-exact"));
        Assert.Equal(413, await PutChunked("chunked-over", [.. value, 1], 4096));
        Assert.Null(await Stored("chunked-over"));
    }
}
