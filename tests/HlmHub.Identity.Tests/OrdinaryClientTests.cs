using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

/// <summary>
/// Tokens obtained over HTTP/1.1 by ordinary clients a partner's integrator would use: curl, and Python's urllib
/// with PyJWT for private_key_jwt, then checked against the JWKS and used on gRPC calls.
/// </summary>
public sealed class OrdinaryClientTests
{
    [Fact]
    public async Task Python_GetsAVerifiedTokenByEachClientAuthenticationMethod()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var secretClient = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "Boulangerie", ["hlmhub.redemptions"], PartnerId: "boulangerie"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyClient = await host.RegisterAsync(new ClientRegistration(ClientKind.Landlord, "PCH", ["hlmhub.roster"], LandlordId: "pch",
            PublicJwk: ClientAssertions.PublicJwk(key)));
        var pemFile = Path.Combine(host.DataDirectory, "client-key.pem");
        await File.WriteAllTextAsync(pemFile, key.ExportPkcs8PrivateKeyPem());

        var output = await RunAsync("/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "Scripts", "get_tokens.py"), host.Issuer, secretClient.ClientId, secretClient.ClientSecret!, keyClient.ClientId, pemFile]);

        using var results = JsonDocument.Parse(output);
        foreach (var method in new[] { "client_secret_basic", "client_secret_post", "private_key_jwt_rfc7523", "private_key_jwt_draft" })
        {
            var result = results.RootElement.GetProperty(method);
            Assert.Equal("at+jwt", result.GetProperty("header").GetProperty("typ").GetString());
            Assert.Equal("ES256", result.GetProperty("header").GetProperty("alg").GetString());
            var claims = result.GetProperty("claims");
            var (kind, bindingClaim, binding, clientId) = method.StartsWith("client_secret", StringComparison.Ordinal)
                ? ("partner", "hlmhub_partner", "boulangerie", secretClient.ClientId)
                : ("landlord", "hlmhub_landlord", "pch", keyClient.ClientId);
            Assert.Equal(kind, claims.GetProperty("hlmhub_kind").GetString());
            Assert.Equal(binding, claims.GetProperty(bindingClaim).GetString());
            Assert.Equal(clientId, claims.GetProperty("sub").GetString());
            Assert.Equal(clientId, claims.GetProperty("client_id").GetString());
        }
    }

    [Fact]
    public async Task TokensPythonGotByEachMethod_AreAcceptedOnGrpcCalls_WithTheirBinding()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var secretClient = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "Boulangerie", ["hlmhub.test", "hlmhub.offers.read"], PartnerId: "boulangerie"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyClient = await host.RegisterAsync(new ClientRegistration(ClientKind.Landlord, "PCH", ["hlmhub.test", "hlmhub.roster"], LandlordId: "pch",
            PublicJwk: ClientAssertions.PublicJwk(key)));
        var pemFile = Path.Combine(host.DataDirectory, "client-key.pem");
        await File.WriteAllTextAsync(pemFile, key.ExportPkcs8PrivateKeyPem());

        var output = await RunAsync("/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "Scripts", "get_tokens.py"), host.Issuer, secretClient.ClientId, secretClient.ClientSecret!, keyClient.ClientId, pemFile]);

        using var results = JsonDocument.Parse(output);
        foreach (var method in new[] { "client_secret_basic", "client_secret_post" })
        {
            var token = results.RootElement.GetProperty(method).GetProperty("token").GetString()!;
            Assert.Equal(secretClient.ClientId, (await host.CallAsync("WhoAmI", token)).ClientId);
            Assert.Equal("Partner", (await host.CallAsync("ReadOffers", token, ownerId: "boulangerie")).Kind);
        }
        foreach (var method in new[] { "private_key_jwt_rfc7523", "private_key_jwt_draft" })
        {
            var token = results.RootElement.GetProperty(method).GetProperty("token").GetString()!;
            Assert.Equal(keyClient.ClientId, (await host.CallAsync("WhoAmI", token)).ClientId);
            Assert.Equal("Landlord", (await host.CallAsync("PushRoster", token, ownerId: "pch")).Kind);
        }
    }

    [Fact]
    public async Task Curl_AsTyped_GetsDiscoveryAndATokenByClientSecretBasic()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "Serrurier", ["hlmhub.offers.read"], PartnerId: "serrurier"));

        var discovery = await RunAsync("curl", ["-sS", "--fail", host.Issuer + ".well-known/openid-configuration"]);
        var response = await RunAsync("curl", ["-sS", "--fail", "-u", client.ClientId + ":" + client.ClientSecret, "-d", "grant_type=client_credentials", host.TokenEndpoint]);

        using var metadata = JsonDocument.Parse(discovery);
        Assert.Equal(host.TokenEndpoint, metadata.RootElement.GetProperty("token_endpoint").GetString());
        using var token = JsonDocument.Parse(response);
        var accessToken = token.RootElement.GetProperty("access_token").GetString()!;
        var validation = await host.ValidateAsync(accessToken);
        Assert.True(validation.IsValid, validation.Exception?.Message);
        Assert.Equal("serrurier", new JsonWebToken(accessToken).GetPayloadValue<string>("hlmhub_partner"));
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments)
    {
        var run = await ProcessRun.RunAsync(program, arguments, TestTimeouts.Default);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.Output;
    }
}
