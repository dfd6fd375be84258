using System.Net;
using System.Security.Cryptography;
using HlmHub.Identity.Internal;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

public sealed class TokenEndpointTests
{
    private static readonly KeyValuePair<string, string> ClientCredentials = new("grant_type", "client_credentials");

    private static ClientRegistration Partner(string partnerId, params string[] scopes) =>
        new(ClientKind.Partner, "Assureur " + partnerId, scopes.Length == 0 ? ["hlmhub.offers.read", "hlmhub.test"] : scopes, PartnerId: partnerId);

    [Fact]
    public async Task ClientSecretBasic_IssuesRfc9068AccessTokenWithBinding()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("no-store", result.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", result.Body.GetProperty("token_type").GetString());
        Assert.Equal(900, result.Body.GetProperty("expires_in").GetInt32());
        Assert.Equal("hlmhub.offers.read hlmhub.test", result.Body.GetProperty("scope").GetString());
        var token = new JsonWebToken(result.AccessToken);
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal("ES256", token.Alg);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal(host.Issuer, token.Issuer);
        Assert.Equal(["hlmhub"], token.Audiences);
        Assert.Equal(client.ClientId, token.Subject);
        Assert.Equal(client.ClientId, token.GetPayloadValue<string>("client_id"));
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.Equal("partner", token.GetPayloadValue<string>("hlmhub_kind"));
        Assert.Equal("maaf", token.GetPayloadValue<string>("hlmhub_partner"));
        Assert.Equal(TimeSpan.FromMinutes(15), token.ValidTo - token.IssuedAt);
        Assert.Equal(token.IssuedAt, token.ValidFrom);
    }

    [Fact]
    public async Task ClientSecretPost_TokenWorksOnGrpcCall()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync(
            [ClientCredentials, new("client_id", client.ClientId), new("client_secret", client.ClientSecret!), new("scope", "hlmhub.test")]);
        var reply = await host.CallAsync("WhoAmI", result.AccessToken);

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal(client.ClientId, reply.ClientId);
        Assert.Equal("Partner", reply.Kind);
        Assert.Equal(["hlmhub.test"], reply.Scopes);
        Assert.Equal(host.Issuer, reply.Issuer);
    }

    [Fact]
    public async Task PrivateKeyJwt_TokenWorksOnGrpcCall()
    {
        await using var host = await IdentityTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(new ClientRegistration(
            ClientKind.Landlord, "Plaine Commune Habitat", ["hlmhub.roster"], LandlordId: "pch",
            PublicJwk: SigningKeyManager.PublicJwkJson(key, "client-key-1", "ES256")));
        Assert.Null(client.ClientSecret);

        var result = await host.RequestTokenAsync(
        [
            ClientCredentials,
            new("client_assertion_type", TokenEndpoint.ClientAssertionType),
            new("client_assertion", MiniIssuer.ClientAssertion(key, client.ClientId, host.TokenEndpoint)),
        ]);
        var reply = await host.CallAsync("PushRoster", result.AccessToken, ownerId: "pch");

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("Landlord", reply.Kind);
        Assert.Equal(["PushRoster"], host.Probe.Executed);
    }

    [Fact]
    public async Task ReplayedClientAssertion_IsInvalidClient()
    {
        await using var host = await IdentityTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(new ClientRegistration(
            ClientKind.Partner, "Boulangerie", ["hlmhub.test"], PartnerId: "boulangerie",
            PublicJwk: SigningKeyManager.PublicJwkJson(key, "k", "ES256")));
        var assertion = MiniIssuer.ClientAssertion(key, client.ClientId, host.TokenEndpoint);
        KeyValuePair<string, string>[] form =
            [ClientCredentials, new("client_assertion_type", TokenEndpoint.ClientAssertionType), new("client_assertion", assertion)];

        var first = await host.RequestTokenAsync(form);
        var replay = await host.RequestTokenAsync(form);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.Status);
        Assert.Equal("invalid_client", replay.Error);
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.ClientAuthenticationFailed && r.Message.Contains("replayed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientAssertionWithWrongAudienceOrLongLifetimeOrOtherKey_IsInvalidClient()
    {
        await using var host = await IdentityTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = await host.RegisterAsync(new ClientRegistration(
            ClientKind.Partner, "Serrurier", ["hlmhub.test"], PartnerId: "serrurier",
            PublicJwk: SigningKeyManager.PublicJwkJson(key, "k", "ES256")));

        foreach (var assertion in new[]
        {
            MiniIssuer.ClientAssertion(key, client.ClientId, "https://elsewhere.example/connect/token"),
            MiniIssuer.ClientAssertion(key, client.ClientId, host.TokenEndpoint, lifetime: TimeSpan.FromHours(1)),
            MiniIssuer.ClientAssertion(otherKey, client.ClientId, host.TokenEndpoint),
        })
        {
            var result = await host.RequestTokenAsync(
                [ClientCredentials, new("client_assertion_type", TokenEndpoint.ClientAssertionType), new("client_assertion", assertion)]);
            Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
            Assert.Equal("invalid_client", result.Error);
        }
    }

    [Fact]
    public async Task WrongSecret_IsInvalidClientWith401AndWwwAuthenticate()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var wrong = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "not-the-secret"));
        var unknown = await host.RequestTokenAsync([ClientCredentials], ("nobody", "whatever"));
        var none = await host.RequestTokenAsync([ClientCredentials]);

        foreach (var result in new[] { wrong, unknown, none })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
            Assert.Equal("invalid_client", result.Error);
            Assert.Contains(result.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
            Assert.Equal("no-store", result.Headers.CacheControl?.ToString());
        }
        Assert.DoesNotContain(host.Logs, r => r.Message.Contains("not-the-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScopeNotAllowed_IsInvalidScopeNotAReducedToken()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        var result = await host.RequestTokenAsync([ClientCredentials, new("scope", "hlmhub.test hlmhub.admin")], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Equal("invalid_scope", result.Error);
        Assert.Contains("hlmhub.admin", result.Body.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.False(result.Body.TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task OtherGrantOrMissingGrantOrRepeatedParameter_AreRfc6749Errors()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));
        var basic = (client.ClientId, client.ClientSecret!);

        var password = await host.RequestTokenAsync([new("grant_type", "password")], basic);
        var missing = await host.RequestTokenAsync([new("scope", "hlmhub.test")], basic);
        var repeated = await host.RequestTokenAsync([ClientCredentials, new("scope", "hlmhub.test"), new("scope", "hlmhub.test")], basic);
        var twoMethods = await host.RequestTokenAsync([ClientCredentials, new("client_id", client.ClientId), new("client_secret", client.ClientSecret!)], basic);

        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (password.Status, password.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (missing.Status, missing.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (repeated.Status, repeated.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (twoMethods.Status, twoMethods.Error));
    }

    [Fact]
    public async Task DisabledClient_GetsNoToken()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(Partner("maaf"));

        await host.Registry.DisableAsync(client.ClientId, CancellationToken.None).DefaultTimeout();
        var result = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal("invalid_client", result.Error);
    }

    [Fact]
    public async Task SecretBruteForce_IsRateLimitedEvenForTheRightSecret()
    {
        await using var host = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerClient"] = "5",
        });
        var client = await host.RegisterAsync(Partner("maaf"));

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], (client.ClientId, "guess-" + attempt))).Status);
        }
        var rightSecret = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3), statuses.Skip(5));
        Assert.Equal(HttpStatusCode.TooManyRequests, rightSecret.Status);
        Assert.NotNull(rightSecret.Headers.RetryAfter);

        host.Clock.Advance(TimeSpan.FromMinutes(6));
        var afterWindow = await host.RequestTokenAsync([ClientCredentials], (client.ClientId, client.ClientSecret!));
        Assert.Equal(HttpStatusCode.OK, afterWindow.Status);
    }

    [Fact]
    public async Task ManyClientsFromOneAddress_AreRateLimitedPerAddress()
    {
        await using var host = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerAddress"] = "4",
        });

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 6; attempt++)
        {
            statuses.Add((await host.RequestTokenAsync([ClientCredentials], ("client-" + attempt, "guess"))).Status);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 4), statuses.Take(4));
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2), statuses.Skip(4));
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.TokenRequestsRateLimited);
    }

    [Fact]
    public async Task DiscoveryDocuments_DescribeTheEmbeddedIssuerAndItsJwks()
    {
        await using var host = await IdentityTestHost.StartAsync();

        foreach (var path in new[] { IdentityEndpointPaths.OpenIdConfiguration, IdentityEndpointPaths.OAuthAuthorizationServer })
        {
            using var document = System.Text.Json.JsonDocument.Parse(await host.Http.GetStringAsync(path).DefaultTimeout());
            var root = document.RootElement;
            Assert.Equal(host.Issuer, root.GetProperty("issuer").GetString());
            Assert.Equal(host.TokenEndpoint, root.GetProperty("token_endpoint").GetString());
            Assert.Equal(["client_credentials"], root.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(
                ["client_secret_basic", "client_secret_post", "private_key_jwt"],
                root.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));
            var jwksUri = new Uri(root.GetProperty("jwks_uri").GetString()!);
            using var jwks = System.Text.Json.JsonDocument.Parse(await host.Http.GetStringAsync(jwksUri).DefaultTimeout());
            var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
            Assert.Equal("EC", key.GetProperty("kty").GetString());
            Assert.Equal("ES256", key.GetProperty("alg").GetString());
            Assert.False(key.TryGetProperty("d", out _));
        }
    }
}
