// Identity benchmark. Measures, on this machine:
//  1. token issuances per second through POST /connect/token on real Kestrel (HTTP/1.1 loopback, SQLite),
//     for client_secret_basic (dominated by PBKDF2) and private_key_jwt (assertion check + replay row);
//  2. the cost authentication adds to each call with a token already validated (what every call after the first
//     pays): the hub's authentication scheme answering from its validated-token cache, in process. The whole
//     per-call cost on a real server (authentication, authorization, caller) is measured by tools/bench/transport.sh.
// Usage: dotnet run -c Release --project tools/HlmHub.Bench.Identity [-- --seconds 5]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HlmHub.Identity;
using HlmHub.Identity.Internal;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

var seconds = args.Length == 2 && args[0] == "--seconds" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var duration = TimeSpan.FromSeconds(seconds);
const int Concurrency = 4;

var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-bench-identity", Guid.NewGuid().ToString("N"));
var builder = WebApplication.CreateSlimBuilder();
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Storage:DataDirectory"] = dataDirectory,
    // The benchmark hammers one client on purpose; it never fails authentication, and it measures issuance, not the
    // per-client request rate (Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute), which stays in the pipeline.
    ["Auth:EmbeddedIssuer:BootstrapAdmin"] = "false",
    ["Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute"] = "100000000",
});
builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1));
builder.Logging.ClearProviders();
builder.Services.AddHlmHubStorage(builder.Configuration);
builder.Services.AddHlmHubIdentity(builder.Configuration);
await using var app = builder.Build();
await app.Services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None);
// Anonymous, as the hub maps them: the fallback policy denies every endpoint that declares nothing.
app.MapGroup("").AllowAnonymous().MapHlmHubIdentityEndpoints();
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
var issuerUrl = app.Services.GetRequiredService<EmbeddedIssuerUrl>();

var registry = app.Services.GetRequiredService<IClientRegistry>();
var secretClient = await registry.RegisterAsync(new ClientRegistration(ClientKind.Partner, "Bench secret", ["hlmhub.test"], PartnerId: "bench"), CancellationToken.None);
using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var jwtClient = await registry.RegisterAsync(new ClientRegistration(ClientKind.Partner, "Bench jwt", ["hlmhub.test"], PartnerId: "bench",
    PublicJwk: SigningKeyManager.PublicJwkJson(clientKey, "bench", "ES256")), CancellationToken.None);

using var http = new HttpClient { BaseAddress = address };
var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(secretClient.ClientId + ":" + secretClient.ClientSecret)));
var assertionHandler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
var assertionCredentials = new SigningCredentials(new ECDsaSecurityKey(clientKey), SecurityAlgorithms.EcdsaSha256);

async Task<string> RequestTokenAsync(bool privateKeyJwt)
{
    var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
    using var request = new HttpRequestMessage(HttpMethod.Post, IdentityEndpointPaths.Token);
    if (privateKeyJwt)
    {
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        var assertion = assertionHandler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwtClient.ClientId,
            Audience = issuerUrl.TokenEndpoint,
            IssuedAt = now,
            Expires = now.AddMinutes(1),
            Claims = new Dictionary<string, object> { ["sub"] = jwtClient.ClientId, ["jti"] = Guid.NewGuid().ToString("N") },
            SigningCredentials = assertionCredentials,
        });
        form.Add(new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
        form.Add(new("client_assertion", assertion));
    }
    else
    {
        request.Headers.Authorization = basic;
    }
    request.Content = new FormUrlEncodedContent(form);
    using var response = await http.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    if (response.StatusCode != HttpStatusCode.OK)
    {
        throw new InvalidOperationException($"Token request failed: {(int)response.StatusCode} {body}");
    }
    using var json = JsonDocument.Parse(body);
    return json.RootElement.GetProperty("access_token").GetString()!;
}

async Task<double> IssuancesPerSecondAsync(bool privateKeyJwt)
{
    await RequestTokenAsync(privateKeyJwt); // warm-up
    var stopwatch = Stopwatch.StartNew();
    var count = 0;
    var workers = Enumerable.Range(0, Concurrency).Select(async _ =>
    {
        while (stopwatch.Elapsed < duration)
        {
            await RequestTokenAsync(privateKeyJwt);
            Interlocked.Increment(ref count);
        }
    });
    await Task.WhenAll(workers);
    return count / stopwatch.Elapsed.TotalSeconds;
}

var machine = $"{Environment.ProcessorCount} logical CPUs, {RuntimeInformationText()}";
Console.WriteLine($"Identity benchmark — {machine}; {seconds} s per measurement, {Concurrency} concurrent token requests");

var basicRate = await IssuancesPerSecondAsync(privateKeyJwt: false);
Console.WriteLine($"token endpoint, client_secret_basic : {basicRate,10:N0} tokens/s");
var jwtRate = await IssuancesPerSecondAsync(privateKeyJwt: true);
Console.WriteLine($"token endpoint, private_key_jwt     : {jwtRate,10:N0} tokens/s");

// Authentication of a call whose token was validated before, through the hub's default scheme.
var token = await RequestTokenAsync(privateKeyJwt: false);
var authentication = app.Services.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationService>();
var bearer = "Bearer " + token;
async ValueTask AuthenticateAsync()
{
    var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = app.Services };
    context.Request.Headers.Authorization = bearer;
    var result = await authentication.AuthenticateAsync(context, HlmHub.Identity.ResourceServer.HubAuthentication.Scheme);
    if (!result.Succeeded)
    {
        throw new InvalidOperationException("The benchmark token does not authenticate.");
    }
}
var firstSight = await MeasureOnceAsync(AuthenticateAsync);
Console.WriteLine($"authentication, first sight         : {firstSight,10:N2} µs (one call: signature check and JIT)");
var steady = await MeasureAsync(AuthenticateAsync, duration);
Console.WriteLine($"authentication, token seen before   : {steady,10:N2} µs per call (target < 20 µs for the whole call)");

await app.StopAsync();
Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
try
{
    Directory.Delete(dataDirectory, recursive: true);
}
catch (IOException)
{
    // A leftover temp folder is harmless.
}

// Microseconds one operation takes, run once.
static async Task<double> MeasureOnceAsync(Func<ValueTask> operation)
{
    var stopwatch = Stopwatch.StartNew();
    await operation();
    return stopwatch.Elapsed.TotalMicroseconds;
}

// Mean microseconds per operation over `length`, after a short warm-up.
static async Task<double> MeasureAsync(Func<ValueTask> operation, TimeSpan length)
{
    for (var i = 0; i < 200; i++)
    {
        await operation();
    }
    var stopwatch = Stopwatch.StartNew();
    long count = 0;
    while (stopwatch.Elapsed < length)
    {
        for (var i = 0; i < 100; i++)
        {
            await operation();
        }
        count += 100;
    }
    return stopwatch.Elapsed.TotalMicroseconds / count;
}

static string RuntimeInformationText() =>
    $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}";
