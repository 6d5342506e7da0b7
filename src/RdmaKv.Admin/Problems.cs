using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace RdmaKv.Admin;

/// <summary>RFC 9457 problem details: every error the admin plane returns is one of these.</summary>
static class Problems
{
    public static IResult Result(int status, string detail, string? title = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    public static Task Write(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = context.Request.Path },
            (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }
}
