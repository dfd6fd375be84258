using System.Net;
using System.Text;
using System.Text.Json;
using HlmHub.Identity;
using HlmHub.Identity.Authorization;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HlmHub.Bench;

/// <summary>Which echo server to run.</summary>
internal enum BenchServerKind
{
    /// <summary>grpc-dotnet alone.</summary>
    Plain,

    /// <summary>grpc-dotnet behind the hub's resource server (JwtBearer, validated-token cache) and rpc authorization.</summary>
    Hub,
}

/// <summary>Hosts one of the benchmark's .NET servers on 127.0.0.1, gRPC on cleartext HTTP/2.</summary>
internal static class BenchServers
{
    public static async Task RunAsync(BenchServerKind kind, int port, string? tokenFile)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-bench", Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Warning and above only: the benchmark measures the stack, not log formatting.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            if (kind == BenchServerKind.Hub)
            {
                // The token endpoint, over HTTP/1.1 as partners call it.
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            }

            kestrel.AddServerHeader = false;
        });
        builder.Services.AddGrpc(options =>
        {
            options.EnableDetailedErrors = false;
            if (kind == BenchServerKind.Hub)
            {
                options.AddHlmHubCallerInterceptor();
            }
        });
        if (kind == BenchServerKind.Hub)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = dataDirectory,
                ["Auth:EmbeddedIssuer:BootstrapAdmin"] = "false",
                // Four hours: longer than any benchmark run, so no token expires during it.
                ["Auth:TokenLifetime"] = "04:00:00",
            });
            builder.Services.AddHlmHubStorage(builder.Configuration);
            builder.Services.AddHlmHubIdentity(builder.Configuration);
            // The hub's per-caller rate limiter, with a rate no benchmark reaches: its cost is measured, not its refusals.
            builder.Services.AddRateLimiter(options => options.GlobalLimiter = CallerRateLimits.Create(100_000_000, 100_000_000));
        }

        await using var app = builder.Build();
        if (kind == BenchServerKind.Hub)
        {
            await app.Services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None);
            app.UseRouting();
            app.UseAuthentication();
            app.UseRateLimiter();
            app.UseAuthorization();
            app.MapGroup("").AllowAnonymous().MapHlmHubIdentityEndpoints();
            app.MapGrpcService<HubEchoService>();
            app.VerifyEveryRpcDeclaresItsPolicy();
        }
        else
        {
            app.MapGrpcService<PlainEchoService>();
        }

        await app.StartAsync();
        if (kind == BenchServerKind.Hub && tokenFile is not null)
        {
            await WriteTokenAsync(app, tokenFile);
        }

        // The script waits for this line.
        Console.WriteLine($"listening on 127.0.0.1:{port} ({kind})");
        await app.WaitForShutdownAsync();
        if (Directory.Exists(dataDirectory))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    /// <summary>Registers a partner client and writes an access token from the real token endpoint to <paramref name="path"/> (mode 0600).</summary>
    private static async Task WriteTokenAsync(WebApplication app, string path)
    {
        var registry = app.Services.GetRequiredService<IClientRegistry>();
        var client = await registry.RegisterAsync(
            new ClientRegistration(ClientKind.Partner, "Benchmark", [HubEchoService.Scope], PartnerId: "bench"), CancellationToken.None);
        var http1 = app.Urls.Last();
        using var http = new HttpClient { BaseAddress = new Uri(http1) };
        using var request = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(client.ClientId + ":" + client.ClientSecret)));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"The benchmark's token request failed: {(int)response.StatusCode}");
        }

        using var json = JsonDocument.Parse(body);
        await File.WriteAllTextAsync(path, json.RootElement.GetProperty("access_token").GetString());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
