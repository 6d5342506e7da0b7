using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using RdmaKv.Core;

namespace RdmaKv.Admin;

/// <summary>
/// GET, PUT and DELETE /api/keys/{key}, all behind the admin token. The key is the rest of the
/// path, percent-decoded to bytes (so any key, binary too, can be named: %2F is a '/' inside the
/// key, %FF a byte). PUT takes the value as the raw request body, and an expiry as the query
/// <c>?ttl=30s</c> (ms, s, m, h or d) or <c>?expires-at=</c> milliseconds since 1970 (UTC); GET
/// answers a value that expires with the header <c>X-RdmaKv-Expires-At</c> (the same milliseconds).
/// </summary>
static class KeyEndpoints
{
    const string Prefix = "/api/keys/";

    public static void Map(RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").RequireAuthorization(AdminPlane.TokenPolicy);
        keys.MapGet("/{**key}", (HttpContext http, NodeHolder holder) => AdminEndpoints.WithNode(holder, node => Get(http, node)));
        keys.MapDelete("/{**key}", (HttpContext http, NodeHolder holder) => AdminEndpoints.WithNode(holder, node => Delete(http, node)));
        keys.MapPut("/{**key}", Put);
    }

    static IResult Get(HttpContext http, IAdminNode node)
    {
        if (!TryKey(http, out byte[] key, out var bad)) return bad;
        if (Misdirection.Check(http, node, key) is { } elsewhere) return elsewhere;
        var status = node.Get(key, out byte[]? value, out long expiresAt);
        if (status != StoreStatus.Ok) return Failure(http, node, status, "get", key);
        if (expiresAt != 0) http.Response.Headers[ExpiresAtHeader] = expiresAt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Bytes(value!, "application/octet-stream");
    }

    static IResult Delete(HttpContext http, IAdminNode node)
    {
        if (!TryKey(http, out byte[] key, out var bad)) return bad;
        if (Misdirection.Check(http, node, key) is { } elsewhere) return elsewhere;
        var status = node.Delete(key);
        return status == StoreStatus.Ok ? TypedResults.NoContent() : Failure(http, node, status, "delete", key);
    }

    static async Task<IResult> Put(HttpContext http, NodeHolder holder, AdminOptions options, CancellationToken cancel)
    {
        var node = holder.Node;
        if (node is null) return AdminEndpoints.WithNode(holder, _ => TypedResults.Ok());
        if (!TryKey(http, out byte[] key, out var bad)) return bad;
        if (!TryExpiry(http, out long expiresAt, out var badExpiry)) return badExpiry;
        // Before the body is read: a misdirected upload is not worth receiving.
        if (Misdirection.Check(http, node, key) is { } elsewhere) return elsewhere;
        long limit = Math.Min(options.MaxRequestBodyBytes, Limits.MaxValueLength);
        if (http.Request.ContentLength > limit) return TooLarge(limit);
        // Kestrel's own limit counts a chunked body's framing too; ReadBody counts value bytes.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit) bodyLimit.MaxRequestBodySize = null;
        byte[]? value;
        try
        {
            value = await ReadBody(http.Request.Body, limit, cancel);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }
        if (value is null) return TooLarge(limit);
        var status = node.Put(key, value, expiresAt);
        return status == StoreStatus.Ok ? TypedResults.NoContent() : Failure(http, node, status, "put", key);
    }

    /// <summary>The header GET answers an expiring value with: its expiry in milliseconds since 1970, UTC.</summary>
    public const string ExpiresAtHeader = "X-RdmaKv-Expires-At";

    /// <summary>The PUT's expiry from <c>?ttl=</c> or <c>?expires-at=</c>; 0 for none.</summary>
    static bool TryExpiry(HttpContext http, out long expiresAt, out IResult bad)
    {
        expiresAt = 0;
        bad = TypedResults.Ok();
        var query = http.Request.Query;
        bool hasTtl = query.TryGetValue("ttl", out var ttlText), hasAt = query.TryGetValue("expires-at", out var atText);
        if (hasTtl && hasAt)
        {
            bad = Problems.Result(StatusCodes.Status400BadRequest, "give either ttl or expires-at, not both", "Bad expiry");
            return false;
        }
        if (hasTtl)
        {
            if (!Durations.TryParse(ttlText.ToString(), out var ttl) || ttl <= TimeSpan.Zero)
            {
                bad = Problems.Result(StatusCodes.Status400BadRequest, $"ttl '{ttlText}' is not a positive duration such as 500ms, 30s, 5m, 2h or 1d", "Bad expiry");
                return false;
            }
            expiresAt = Expiry.Now() + (long)Math.Ceiling(ttl.TotalMilliseconds);
        }
        else if (hasAt && (!long.TryParse(atText.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out expiresAt) || expiresAt <= 0))
        {
            bad = Problems.Result(StatusCodes.Status400BadRequest, $"expires-at '{atText}' is not a positive number of milliseconds since 1970 (UTC)", "Bad expiry");
            return false;
        }
        return true;
    }

    /// <summary>The body, or null when it is longer than <paramref name="limit"/> (reading stops there).</summary>
    static async Task<byte[]?> ReadBody(Stream body, long limit, CancellationToken cancel)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancel)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static IResult TooLarge(long limit) =>
        Problems.Result(StatusCodes.Status413PayloadTooLarge, $"the value is longer than {limit} bytes, the largest this node stores", "Value too large");

    static IResult Failure(HttpContext http, IAdminNode node, StoreStatus status, string operation, byte[] key)
    {
        if (status == StoreStatus.WrongSlot && node.ClusterMap is not null) return Misdirection.Moved(http, node, key);
        int code = status switch
        {
            StoreStatus.NotFound => StatusCodes.Status404NotFound,
            StoreStatus.KeyEmpty or StoreStatus.KeyTooLong or StoreStatus.BadRequest => StatusCodes.Status400BadRequest,
            StoreStatus.ValueTooLong => StatusCodes.Status413PayloadTooLarge,
            StoreStatus.RegionFull or StoreStatus.DiskFull => StatusCodes.Status507InsufficientStorage,
            StoreStatus.ShuttingDown => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        };
        string detail = StoreStatusText.Describe(status);
        if (code >= 500) node.RecentErrors.Add("admin", $"{operation} of a {key.Length}-byte key: {detail}");
        return Problems.Result(code, status == StoreStatus.NotFound ? "no such key" : detail, status.ToString());
    }

    /// <summary>
    /// The key from the raw request target (Request.Path has already decoded all but %2F, which
    /// would make "a/b" and "a%2Fb" the same key), checked against the key limits. The prefix is
    /// matched ignoring case, as routing matches it: /API/KEYS/x names the key "x".
    /// </summary>
    static bool TryKey(HttpContext http, out byte[] key, out IResult bad)
    {
        string raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        int start = raw.IndexOf(Prefix, StringComparison.OrdinalIgnoreCase);
        if (start < 0)
        {
            raw = http.Request.PathBase + http.Request.Path.ToUriComponent();
            start = raw.IndexOf(Prefix, StringComparison.OrdinalIgnoreCase);
        }
        key = [];
        if (start < 0)
        {
            bad = Problems.Result(StatusCodes.Status400BadRequest, $"the key must follow {Prefix} in the request target", "Bad key");
            return false;
        }
        string encoded = raw[(start + Prefix.Length)..];
        int query = encoded.IndexOf('?');
        if (query >= 0) encoded = encoded[..query];
        if (!TryPercentDecode(encoded, out key))
        {
            bad = Problems.Result(StatusCodes.Status400BadRequest, "the key has a '%' that is not followed by two hex digits", "Bad key");
            return false;
        }
        var valid = StoreStatusText.Validate(key.Length, 0);
        bad = valid == StoreStatus.Ok ? TypedResults.Ok() : Problems.Result(StatusCodes.Status400BadRequest, StoreStatusText.Describe(valid), "Bad key");
        return valid == StoreStatus.Ok;
    }

    static bool TryPercentDecode(string encoded, out byte[] bytes)
    {
        var output = new List<byte>(encoded.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < encoded.Length; i++)
        {
            char c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !byte.TryParse(encoded.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b))
                {
                    bytes = [];
                    return false;
                }
                output.Add(b);
                i += 2;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < encoded.Length)
            {
                int n = Encoding.UTF8.GetBytes(encoded.AsSpan(i, 2), utf8);
                for (int k = 0; k < n; k++) output.Add(utf8[k]);
                i++;
            }
            else
            {
                int n = Encoding.UTF8.GetBytes([c], utf8);
                for (int k = 0; k < n; k++) output.Add(utf8[k]);
            }
        }
        bytes = [.. output];
        return true;
    }
}
