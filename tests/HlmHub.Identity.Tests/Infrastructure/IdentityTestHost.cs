using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using HlmHub.Identity.Authorization;
using HlmHub.Identity.Tests.Secured;
using HlmHub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>
/// The hub's identity stack on real Kestrel at 127.0.0.1:0 (HTTP/2 cleartext) with a real SQLite file in a
/// fresh data directory: token endpoint, discovery, JWKS, and the secured test service on grpc-dotnet behind
/// ASP.NET Core authentication and authorization, as the hub wires them. Disposing it fails the test on any error log the test did not expect.
/// </summary>
internal sealed class IdentityTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestLoggerProvider _logs;
    private readonly List<Func<LogRecord, bool>> _expectedErrors = [];
    private readonly HttpClient _http;

    private IdentityTestHost(WebApplication app, TestLoggerProvider logs, Uri address, Uri issuerAddress, string dataDirectory, AdjustableTimeProvider clock)
    {
        _app = app;
        _logs = logs;
        Address = address;
        Issuer = issuerAddress.GetLeftPart(UriPartial.Authority) + "/";
        DataDirectory = dataDirectory;
        Clock = clock;
        Channel = GrpcChannel.ForAddress(address);
        _http = new HttpClient { BaseAddress = issuerAddress };
    }

    /// <summary>The HTTP/2 address gRPC calls go to.</summary>
    public Uri Address { get; }

    /// <summary>The issuer URL: the server's first (HTTP/1.1) address, with OpenIddict's trailing slash.</summary>
    public string Issuer { get; }

    public string TokenEndpoint => Issuer + IdentityEndpointPaths.Token.TrimStart('/');

    public string DataDirectory { get; }

    public AdjustableTimeProvider Clock { get; }

    public GrpcChannel Channel { get; }

    public HttpClient Http => _http;

    public IServiceProvider Services => _app.Services;

    public HandlerProbe Probe => Services.GetRequiredService<HandlerProbe>();

    public IReadOnlyCollection<LogRecord> Logs => _logs.Records;

    public static async Task<IdentityTestHost> StartAsync(
        IDictionary<string, string?>? settings = null,
        string? dataDirectory = null,
        Action<WebApplication>? map = null,
        Action<IServiceCollection>? services = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "hlmhub-identity-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var logs = new TestLoggerProvider(LogLevel.Debug);
        var clock = new AdjustableTimeProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        // Cleartext Kestrel speaks either HTTP/1.1 or HTTP/2 on a port, not both: the first port (the issuer
        // URL) serves HTTP/1.1 as metadata fetchers expect, the second HTTP/2 for gRPC. The host tells Identity its
        // HTTP/1.1 endpoint, as the hub does, so the issuer answers there alone.
        var ports = new HttpPort();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                ports.Http = listen;
            });
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddSingleton<IHttpEndpointAddress>(ports);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<HandlerProbe>();
        builder.Services.AddGrpc(options =>
        {
            options.EnableDetailedErrors = false;
            options.AddHlmHubCallerInterceptor();
        });
        builder.Services.AddGrpcHealthChecks().AddCheck("self", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        builder.Services.AddHlmHubStorage(builder.Configuration);
        builder.Services.AddHlmHubIdentity(builder.Configuration);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            await app.Services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None).DefaultTimeout();
            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGroup("").AllowAnonymous().MapHlmHubIdentityEndpoints();
            if (map is null)
            {
                app.MapGrpcService<SecuredTestService>();
                app.MapGrpcHealthChecksService().AllowAnonymous();
            }
            else
            {
                map(app);
            }
            app.VerifyEveryRpcDeclaresItsPolicy();
            await app.StartAsync().DefaultTimeout();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        Assert.Equal(2, addresses.Count);
        return new IdentityTestHost(app, logs, new Uri(addresses[1]), new Uri(addresses[0]), dataDirectory, clock);
    }

    public IClientRegistry Registry => Services.GetRequiredService<IClientRegistry>();

    /// <summary>Registers a secret client and returns its credentials.</summary>
    public Task<RegisteredClient> RegisterAsync(ClientRegistration registration) =>
        Registry.RegisterAsync(registration, CancellationToken.None).DefaultTimeout();

    /// <summary>POSTs a token request with the given form fields and optional Basic credentials.</summary>
    public async Task<TokenResult> RequestTokenAsync(IEnumerable<KeyValuePair<string, string>> form, (string ClientId, string Secret)? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token)
        {
            Content = new FormUrlEncodedContent(form),
        };
        if (basic is { } credentials)
        {
            var encoded = Uri.EscapeDataString(credentials.ClientId) + ":" + Uri.EscapeDataString(credentials.Secret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(encoded)));
        }
        using var response = await _http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        if (!body.StartsWith('{'))
        {
            Assert.Fail($"The token endpoint answered {(int)response.StatusCode} without JSON: {body}\n{string.Join("\n", Logs.Where(r => r.Level >= LogLevel.Error))}");
        }
        var json = JsonDocument.Parse(body).RootElement.Clone();
        return new TokenResult(response.StatusCode, json, response.Headers);
    }

    /// <summary>A token for a secret client by client_secret_basic.</summary>
    public async Task<string> GetTokenAsync(RegisteredClient client, string? scope = null)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scope is not null)
        {
            form.Add(new("scope", scope));
        }
        var result = await RequestTokenAsync(form, (client.ClientId, client.ClientSecret!));
        Assert.True(result.Status == HttpStatusCode.OK, $"token request failed: {result.Status} {result.Body}");
        return result.AccessToken;
    }

    /// <summary>Calls an rpc of the secured service, by name, through its generated client with an optional bearer token.</summary>
    public async Task<CallerReply> CallAsync(string rpc, string? token, string ownerId = "")
    {
        var client = new SecuredService.SecuredServiceClient(Channel);
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", "Bearer " + token);
        }
        var options = new CallOptions(headers, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));
        var request = new OwnedRequest { OwnerId = ownerId };
        using var call = rpc switch
        {
            nameof(SecuredService.SecuredServiceClient.WhoAmI) => client.WhoAmIAsync(request, options),
            nameof(SecuredService.SecuredServiceClient.ReadOffers) => client.ReadOffersAsync(request, options),
            nameof(SecuredService.SecuredServiceClient.PushRoster) => client.PushRosterAsync(request, options),
            nameof(SecuredService.SecuredServiceClient.ManageClub) => client.ManageClubAsync(request, options),
            nameof(SecuredService.SecuredServiceClient.ForgetsOwnership) => client.ForgetsOwnershipAsync(request, options),
            nameof(SecuredService.SecuredServiceClient.WritesBeforeChecking) => client.WritesBeforeCheckingAsync(request, options),
            _ => throw new ArgumentException($"SecuredService has no rpc {rpc}.", nameof(rpc)),
        };
        return await call.ResponseAsync.DefaultTimeout();
    }

    /// <summary>Calls an rpc that must fail, and returns its status.</summary>
    public async Task<Status> CallFailsAsync(string rpc, string? token, string ownerId = "")
    {
        var exception = await Assert.ThrowsAsync<RpcException>(() => CallAsync(rpc, token, ownerId));
        return exception.Status;
    }

    /// <summary>Declares an error log the test provokes on purpose.</summary>
    public void ExpectErrorLog(Func<LogRecord, bool> match) => _expectedErrors.Add(match);

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        _http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        var unexpected = _logs.Records
            .Where(record => record.Level >= LogLevel.Error && !_expectedErrors.Any(match => match(record)))
            .ToList();
        if (unexpected.Count > 0)
        {
            Assert.Fail("The server logged unexpected errors:\n" + string.Join("\n", unexpected));
        }
    }

    /// <summary>The host's HTTP/1.1 port, known once Kestrel has bound it (it writes the chosen port back).</summary>
    private sealed class HttpPort : IHttpEndpointAddress
    {
        public ListenOptions? Http { get; set; }

        public string? Address => Http?.IPEndPoint is { Port: > 0 } bound ? $"http://127.0.0.1:{bound.Port}" : null;
    }

    /// <summary>Removes a data directory created by <see cref="StartAsync"/>, best effort.</summary>
    public static void DeleteDataDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
