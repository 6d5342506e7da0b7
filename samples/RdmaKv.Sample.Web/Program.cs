using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Hybrid;
using RdmaKv.Sample.Web;

// Sessions and cached responses in RdmaKv. Start a node (README, Quick start), then:
//   dotnet run -c Release --project samples/RdmaKv.Sample.Web
//   curl -c jar -b jar http://127.0.0.1:5080/session     (visits: 1, 2, 3, ... across requests)
//   curl http://127.0.0.1:5080/quotes/7                  (computed once, then served from the cache)
var builder = WebApplication.CreateBuilder(args);

// One shared KvClient, "RdmaKv:Connect" (local:default unless configured), and the distributed cache on it.
var rdmakv = builder.Configuration.GetSection("RdmaKv");
builder.Services.AddRdmaKv(rdmakv).AddRdmaKvDistributedCache(rdmakv);

// Session state lives in the IDistributedCache, so in RdmaKv: any instance of the app serves any session.
builder.Services.AddSession(options =>
{
    options.IdleTimeout = TimeSpan.FromMinutes(20);
    options.Cookie.Name = ".RdmaKv.Sample.Session";
    options.Cookie.HttpOnly = true;
    options.Cookie.IsEssential = true;
});

// HybridCache: each instance's memory first, RdmaKv (the IDistributedCache) second.
builder.Services.AddHybridCache(options => options.DefaultEntryOptions = new HybridCacheEntryOptions
{
    Expiration = TimeSpan.FromMinutes(5),
    LocalCacheExpiration = TimeSpan.FromMinutes(1),
});

builder.Services.AddHealthChecks().AddRdmaKv();

// Instances that share sessions must read each other's session cookies: a shared key ring.
if (builder.Configuration["DataProtection:KeysDirectory"] is { Length: > 0 } keys)
    builder.Services.AddDataProtection().SetApplicationName("RdmaKv.Sample.Web").PersistKeysToFileSystem(new DirectoryInfo(keys));

builder.Services.AddSingleton<QuoteBook>();

var app = builder.Build();
app.UseSession();

app.MapGet("/", () => "RdmaKv sample: GET /session, GET /quotes/{id}, GET /health");

app.MapGet("/session", async (HttpContext context) =>
{
    await context.Session.LoadAsync(context.RequestAborted);
    int visits = (context.Session.GetInt32("visits") ?? 0) + 1;
    context.Session.SetInt32("visits", visits);
    return Results.Ok(new { visits });
});

app.MapGet("/quotes/{id:int}", async (int id, HybridCache cache, QuoteBook book, CancellationToken cancel) =>
{
    bool computed = false;
    var quote = await cache.GetOrCreateAsync($"quotes/{id}", async token =>
    {
        computed = true;
        return await book.ComputeAsync(id, token);
    }, cancellationToken: cancel);
    return Results.Ok(new { quote, fromCache = !computed });
});

app.MapHealthChecks("/health");

app.Run();
