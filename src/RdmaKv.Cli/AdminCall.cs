using System.Net.Http.Headers;
using System.Text.Json;

namespace RdmaKv.Cli;

/// <summary>
/// Verbs that steer a node go to its admin plane (HTTP, bearer token), not to the data path:
/// the URL from --admin or RDMAKV_ADMIN, the token from RDMAKV_ADMIN_TOKEN or the token file
/// the node wrote into its data directory.
/// </summary>
static class AdminCall
{
    public const string DefaultUrl = "http://127.0.0.1:7480";

    /// <summary>Posts to <paramref name="path"/> and prints the JSON answer; exit code 0 done, 2 refused or failed, 3 no answer.</summary>
    public static int Post(string adminUrl, string tokenFile, string path, object? body = null)
    {
        string? token = Environment.GetEnvironmentVariable("RDMAKV_ADMIN_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            if (!File.Exists(tokenFile))
            {
                return ExitCode.UsageError($"no admin token: set RDMAKV_ADMIN_TOKEN or pass --admin-token-file (looked for {Path.GetFullPath(tokenFile)}, which the node writes at its first start)");
            }
            token = File.ReadAllText(tokenFile).Trim();
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(adminUrl), path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent(body);
        try
        {
            using var response = http.Send(request);
            string text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            if (response.IsSuccessStatusCode)
            {
                Console.WriteLine(text);
                return 0;
            }
            Console.Error.WriteLine($"rdmakv: {adminUrl}{path} answered {(int)response.StatusCode}: {Detail(text)}");
            return 2;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            Console.Error.WriteLine($"rdmakv: the admin plane at {adminUrl} did not answer: {e.Message}");
            return 3;
        }
    }

    /// <summary>Reads <paramref name="path"/> (no token needed); exit code 0 with the body, 2 refused, 3 no answer.</summary>
    public static int Get(string adminUrl, string path, out string? body)
    {
        body = null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(adminUrl), path)));
            string text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"rdmakv: {adminUrl}{path} answered {(int)response.StatusCode}: {Detail(text)}");
                return 2;
            }
            body = text;
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            Console.Error.WriteLine($"rdmakv: the admin plane at {adminUrl} did not answer: {e.Message}");
            return 3;
        }
    }

    static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    /// <summary>The problem's detail when the answer is a problem document, else the text itself.</summary>
    static string Detail(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var detail)) return detail.GetString() ?? text;
        }
        catch (JsonException)
        {
        }
        return text.Length == 0 ? "(no body)" : text;
    }
}
