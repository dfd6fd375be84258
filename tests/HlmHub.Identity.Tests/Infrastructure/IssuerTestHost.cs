using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
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
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>A token response, or the RFC 6749 error the endpoint answered with.</summary>
internal sealed record TokenResult(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers)
{
    public string AccessToken => Body.GetProperty("access_token").GetString()!;

    public string? Error => Body.TryGetProperty("error", out var error) ? error.GetString() : null;
}

/// <summary>
/// The embedded authorization server alone (OpenIddict and Identity, no gRPC) on real Kestrel at 127.0.0.1:0
/// over HTTP/1.1, with a real SQLite file in a fresh data directory, or a PostgreSQL database given by connection
/// string. Disposing it fails the test on any error log the test did not expect.
/// </summary>
internal sealed class IssuerTestHost : IAsyncDisposable
{
    /// <summary>The audience the embedded issuer writes by default.</summary>
    public const string Audience = "hlmhub";

    private readonly WebApplication _app;
    private readonly TestLoggerProvider _logs;
    private readonly List<Func<LogRecord, bool>> _expectedErrors = [];

    private IssuerTestHost(WebApplication app, TestLoggerProvider logs, Uri address, string dataDirectory, AdjustableTimeProvider clock)
    {
        _app = app;
        _logs = logs;
        Address = address;
        DataDirectory = dataDirectory;
        Clock = clock;
        Http = new HttpClient { BaseAddress = address };
    }

    /// <summary>The server's HTTP/1.1 address (no trailing slash).</summary>
    public Uri Address { get; }

    /// <summary>The issuer identifier as tokens and discovery carry it: the address with a trailing slash.</summary>
    public string Issuer => Address.GetLeftPart(UriPartial.Authority) + "/";

    public string TokenEndpoint => Issuer + "connect/token";

    public string DataDirectory { get; }

    public AdjustableTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public IReadOnlyCollection<LogRecord> Logs => _logs.Records;

    public IClientRegistry Registry => Services.GetRequiredService<IClientRegistry>();

    /// <summary>
    /// Starts a host. <paramref name="postgres"/> is a connection string to an existing (empty or shared)
    /// PostgreSQL database; without it, SQLite in <paramref name="dataDirectory"/>.
    /// </summary>
    public static async Task<IssuerTestHost> StartAsync(
        IDictionary<string, string?>? settings = null,
        string? dataDirectory = null,
        string? postgres = null)
    {
        dataDirectory ??= NewDataDirectory();
        Directory.CreateDirectory(dataDirectory);
        var logs = new TestLoggerProvider(LogLevel.Debug);
        var clock = new AdjustableTimeProvider();
        var builder = WebApplication.CreateSlimBuilder();
        var configuration = new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory };
        if (postgres is not null)
        {
            configuration["Storage:Provider"] = "Postgres";
            configuration["ConnectionStrings:HlmHub"] = postgres;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddHlmHubStorage(builder.Configuration);
        builder.Services.AddHlmHubIdentity(builder.Configuration);
        var app = builder.Build();
        try
        {
            await TestSchema.CreateAsync(app.Services).DefaultTimeout();
            app.MapGroup("").AllowAnonymous().MapHlmHubIdentityEndpoints();
            await app.StartAsync().DefaultTimeout();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new IssuerTestHost(app, logs, new Uri(address), dataDirectory, clock);
    }

    public static string NewDataDirectory() =>
        Path.Combine(Path.GetTempPath(), "hlmhub-identity-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Registers a client and returns its credentials.</summary>
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
            // RFC 6749 §2.3.1: form-urlencode each part before joining them.
            var encoded = Uri.EscapeDataString(credentials.ClientId) + ":" + Uri.EscapeDataString(credentials.Secret);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(encoded)));
        }
        using var response = await Http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        if (!body.StartsWith('{'))
        {
            Assert.Fail($"The token endpoint answered {(int)response.StatusCode} without JSON: {body}\n{string.Join("\n", Logs.Where(r => r.Level >= LogLevel.Warning))}");
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

    /// <summary>The key ids published in the JWKS now.</summary>
    public async Task<List<string>> PublishedKeyIdsAsync()
    {
        using var jwks = JsonDocument.Parse(await Http.GetStringAsync(IdentityEndpointPaths.Jwks).DefaultTimeout());
        return jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    /// <summary>
    /// Validates an access token as an independent resource server would: keys from the JWKS fetched over HTTP,
    /// ES256 only, <c>typ: at+jwt</c>, issuer and audience exact, lifetime by the host's clock.
    /// </summary>
    public async Task<TokenValidationResult> ValidateAsync(string token)
    {
        var jwks = new JsonWebKeySet(await Http.GetStringAsync(IdentityEndpointPaths.Jwks).DefaultTimeout());
        var now = Clock.GetUtcNow().UtcDateTime;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["ES256"],
            ValidTypes = ["at+jwt"],
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) => (notBefore is null || notBefore <= now) && expires > now,
        };
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, parameters).DefaultTimeout();
    }

    /// <summary>Declares an error log the test provokes on purpose.</summary>
    public void ExpectErrorLog(Func<LogRecord, bool> match) => _expectedErrors.Add(match);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        NpgsqlConnection.ClearAllPools();
        var unexpected = _logs.Records
            .Where(record => record.Level >= LogLevel.Error && !_expectedErrors.Any(match => match(record)))
            .ToList();
        if (unexpected.Count > 0)
        {
            Assert.Fail("The server logged unexpected errors:\n" + string.Join("\n", unexpected));
        }
    }
}
