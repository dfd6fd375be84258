using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Infrastructure;
using HlmHub.Grpc.Tests.Echo;

namespace HlmHub.Grpc.Tests;

/// <summary>With a certificate configured, calls run over TLS and ALPN settles on h2.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task ServerWithCertificate_NegotiatesH2ByAlpn()
    {
        using var certificate = CreateSelfSignedCertificate();
        await using var server = await GrpcTestServer.StartAsync(certificate: certificate);

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Address.Port).DefaultTimeout();
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        }).DefaultTimeout();

        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task ClientTrustingTheCertificate_CallsOverTls()
    {
        using var certificate = CreateSelfSignedCertificate();
        await using var server = await GrpcTestServer.StartAsync(certificate: certificate);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Pin the test certificate: nothing else on this machine is trusted.
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
        using var channel = GrpcChannel.ForAddress(new Uri($"https://localhost:{server.Address.Port}"), new GrpcChannelOptions { HttpHandler = handler });

        var reply = await channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "over tls" }).ResponseAsync.DefaultTimeout();

        Assert.Equal("over tls", reply.Message);
    }

    [Fact]
    public async Task ClientNotTrustingTheCertificate_IsUnavailable()
    {
        using var certificate = CreateSelfSignedCertificate();
        await using var server = await GrpcTestServer.StartAsync(certificate: certificate);
        using var channel = GrpcChannel.ForAddress(new Uri($"https://localhost:{server.Address.Port}"));

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        // The handshake failure is the client's to report; the server logs it below Error.
    }

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = TimeProvider.System.GetUtcNow();
        using var ephemeral = request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
        // Round-trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }
}
