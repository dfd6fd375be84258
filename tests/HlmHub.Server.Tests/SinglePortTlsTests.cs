using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using HlmHub.Contracts.V1;
using Microsoft.Data.Sqlite;

namespace HlmHub.Server.Tests;

/// <summary>
/// The operator's TLS layout (docs/operations.md): both endpoint names on one https URL, <c>Http1AndHttp2</c>, a
/// certificate. The real hub process binds the port once and, by ALPN, serves an OAuth client over HTTP/1.1 (discovery
/// and the token endpoint) and a gRPC client over HTTP/2 on it, the issuer being that URL.
/// </summary>
public sealed class SinglePortTlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hlmhub-tls-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task OneHttpsPort_ServesTheTokenEndpointOverHttp11_AndGrpcOverHttp2_WithThatPortAsTheIssuer()
    {
        using var certificate = SelfSigned();
        var pfx = Path.Combine(_directory, "hub.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-only"));
        var dataDirectory = Path.Combine(_directory, "data");
        // On the port chosen for the Http endpoint, so that a start on fresh ports (the port taken meanwhile) moves it.
        static string Url(int port) => $"https://127.0.0.1:{port}";
        await using var hub = HubProcess.Start(ports => new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Kestrel:Endpoints:Grpc:Url"] = Url(ports.Http),
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http1AndHttp2",
            ["Kestrel:Endpoints:Grpc:Certificate:Path"] = pfx,
            ["Kestrel:Endpoints:Grpc:Certificate:Password"] = "test-only",
            ["Kestrel:Endpoints:Http:Url"] = Url(ports.Http),
            ["Auth:Issuer"] = Url(ports.Http) + "/",
        });
        await hub.WaitStartedAsync();
        var url = Url(hub.HttpPort);
        // Trust exactly this certificate, as a client configured with the hub's CA would.
        SocketsHttpHandler Trusting() => new()
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString() },
        };
        using var http = new HttpClient(Trusting()) { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var discovery = await http.GetAsync(new Uri(url + "/.well-known/openid-configuration"), TestTimeouts.Token());
        using var discoveryJson = JsonDocument.Parse(await discovery.Content.ReadAsStringAsync(TestTimeouts.Token()));
        var (clientId, secret) = BootstrapAdmin.Read(dataDirectory);
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, new Uri(url + "/connect/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "hlmhub.admin" }),
        };
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        using var tokenResponse = await http.SendAsync(tokenRequest, TestTimeouts.Token());
        using var tokenJson = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync(TestTimeouts.Token()));
        using var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = Trusting(), DisposeHttpClient = true });
        var landlords = await new AdminService.AdminServiceClient(channel).ListLandlordsAsync(
            new ListLandlordsRequest(),
            new Metadata { { "authorization", "Bearer " + tokenJson.RootElement.GetProperty("access_token").GetString() } },
            deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));

        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version11), (discovery.StatusCode, discovery.Version));
        Assert.Equal(url + "/", discoveryJson.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(url + "/connect/token", discoveryJson.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version11), (tokenResponse.StatusCode, tokenResponse.Version));
        // The call above went over HTTP/2 (gRPC needs it) on the same port, with a token the port's issuer signed.
        Assert.Empty(landlords.Landlords);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
