using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RdmaKv.Admin;

/// <summary>
/// Accepts <c>Authorization: Bearer TOKEN</c> with the node's admin token. Authorization runs
/// before the endpoint reads its body, so a refused request changes nothing and is not read.
/// </summary>
sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminToken token)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminToken";
    const string Prefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || !token.Matches(header.AsSpan(Prefix.Length).Trim()))
            return Task.FromResult(AuthenticateResult.Fail("the bearer token is wrong"));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        bool presented = !string.IsNullOrEmpty(Request.Headers.Authorization);
        Response.Headers.WWWAuthenticate = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
        await Problems.Write(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            presented
                ? "the bearer token is wrong; it is in the node's data directory, file " + AdminToken.FileName
                : "this endpoint needs 'Authorization: Bearer TOKEN'; the token is in the node's data directory, file " + AdminToken.FileName);
    }
}
