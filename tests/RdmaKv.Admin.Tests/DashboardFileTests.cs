using System.Net;
using System.Text.RegularExpressions;

namespace RdmaKv.Admin.Tests;

/// <summary>The dashboard's files come from the assembly and reference nothing outside the node.</summary>
public sealed partial class DashboardFileTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    readonly InProcessNode _node = fixture.Node;

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/dashboard.js", "text/javascript")]
    [InlineData("/dashboard.css", "text/css")]
    public async Task EachFileIsServedWithItsTypeAndAStrictPolicy(string path, string type)
    {
        var response = await _node.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length > 500, $"{path} is only {body.Length} characters");
        Assert.DoesNotMatch(ExternalUrl(), body);
    }

    [Fact]
    public async Task ThePageLoadsOnlyTheNodesOwnScriptAndStyle()
    {
        string html = await _node.Http.GetStringAsync("/");
        Assert.Contains("src=\"dashboard.js\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"dashboard.css\"", html, StringComparison.Ordinal);
        Assert.Contains("name=\"viewport\"", html, StringComparison.Ordinal);
        foreach (string id in (string[])["ops-chart", "latency-chart", "clients-chart", "partitions-chart", "errors"])
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
    }

    // A reference to another origin: src/href to http(s) or //, or a fetch/import of one.
    [GeneratedRegex(@"(src|href)\s*=\s*[""'](https?:)?//|fetch\(\s*[""'`]https?:|import\s.*https?:", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();
}
