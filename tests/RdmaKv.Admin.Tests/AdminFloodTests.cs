using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// An unauthenticated flood of a real server's admin plane (its own process: the flood spends
/// the loopback address's allowance): the flood gets 429 with Retry-After, the operator with
/// the admin token is still answered, and the node still serves its clients.
/// </summary>
public sealed class AdminFloodTests : IDisposable
{
    readonly ServerProcess _server = new(extra: ["--checkpoint-interval", "0"]);

    [Fact]
    public async Task AFloodWithoutTheTokenGets429AndTheTokenIsStillAnswered()
    {
        var admin = _server.WaitUntilUp();
        string token = (await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, AdminToken.FileName))).Trim();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(60) };
        using var stop = new CancellationTokenSource();
        var refused = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        long answered = 0;
        async Task Flood(string path)
        {
            while (!stop.IsCancellationRequested)
            {
                HttpResponseMessage response;
                try
                {
                    response = await http.GetAsync(path, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (response.StatusCode == HttpStatusCode.TooManyRequests) refused.TrySetResult(response);
                else if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref answered);
                else Assert.Fail($"the flood got {response.StatusCode}");
            }
        }
        var flood = Enumerable.Range(0, 16).Select(i => Task.Run(() => Flood(i % 2 == 0 ? "health/live" : "metrics"))).ToList();
        try
        {
            var first = await refused.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(first.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {first.Headers.RetryAfter}");
            Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
            Assert.True(Interlocked.Read(ref answered) > 0, "the allowance was served before the refusals");

            // While the flood goes on: the operator's requests are answered, at once and in full.
            var node = new HttpRequestMessage(HttpMethod.Get, "api/node");
            node.Headers.Authorization = new("Bearer", token);
            var answer = await http.SendAsync(node);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(_server.Name, (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
            var put = new HttpRequestMessage(HttpMethod.Put, "api/keys/during-flood") { Content = new StringContent("kept") };
            put.Headers.Authorization = new("Bearer", token);
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(put)).StatusCode);
            using var client = Client.KvClient.Connect(_server.ConnectUri);
            Assert.Equal("kept"u8.ToArray(), client.Get("during-flood"));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(flood);
        }
    }

    public void Dispose() => _server.Dispose();
}
