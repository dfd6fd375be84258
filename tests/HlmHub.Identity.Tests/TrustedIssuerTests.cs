using HlmHub.Grpc;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;

namespace HlmHub.Identity.Tests;

public sealed class TrustedIssuerTests
{
    [Fact]
    public async Task SecondEmbeddedIssuerOnAnotherPort_IsTrustedByConfiguration()
    {
        await using var other = await IdentityTestHost.StartAsync(new Dictionary<string, string?> { ["Auth:Audience"] = "hlmhub-federated" });
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = other.Issuer,
            ["Auth:TrustedIssuers:0:Audience"] = "hlmhub-federated",
        });
        var landlord = await other.RegisterAsync(new ClientRegistration(ClientKind.Landlord, "AMSOM", ["hlmhub.roster"], LandlordId: "amsom"));
        var token = await other.GetTokenAsync(landlord);

        var reply = await hub.CallAsync("PushRoster", token, ownerId: "amsom");

        Assert.Equal(other.Issuer, reply.Issuer);
        Assert.Equal("Landlord", reply.Kind);
    }

    [Fact]
    public async Task ExternalAuthority_ReplacesTheEmbeddedOneWithoutCodeChange()
    {
        await using var issuer = await MiniIssuer.StartAsync();
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Authority"] = issuer.Issuer,
            // Issuers that do not implement RFC 9068 type their tokens "JWT".
            ["Auth:AcceptedTokenTypes:0"] = "at+jwt",
            ["Auth:AcceptedTokenTypes:1"] = "JWT",
        });
        // Like Keycloak without a requested scope: no nbf, no scope claim... and an rpc needing a scope refuses it.
        var claims = issuer.Claims("hlmhub", "kc-admin", "admin", binding: null, scope: null);
        var unscoped = issuer.Sign(claims, type: "JWT");
        claims["scope"] = "hlmhub.test";
        var scoped = issuer.Sign(claims, type: "JWT");

        var reply = await hub.CallAsync("WhoAmI", scoped);
        var refused = await hub.CallFailsAsync("WhoAmI", unscoped);

        Assert.Equal("HubAdmin", reply.Kind);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    [Fact]
    public async Task EmbeddedIssuerDisabled_ServesNoTokenEndpointAndCreatesNoAdmin()
    {
        await using var issuer = await MiniIssuer.StartAsync();
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Authority"] = issuer.Issuer,
            ["Auth:EmbeddedIssuer:Enabled"] = "false",
        });

        using var token = await hub.Http.PostAsync(IdentityEndpointPaths.Token, new FormUrlEncodedContent([new("grant_type", "client_credentials")])).DefaultTimeout();
        using var discovery = await hub.Http.GetAsync(IdentityEndpointPaths.OpenIdConfiguration).DefaultTimeout();
        var reply = await hub.CallAsync("WhoAmI", issuer.Sign(issuer.Claims("hlmhub", "kc-partner", "partner", "maaf", "hlmhub.test")));

        Assert.False(token.IsSuccessStatusCode);
        Assert.False(discovery.IsSuccessStatusCode);
        Assert.False(File.Exists(Path.Combine(hub.DataDirectory, "bootstrap-admin.json")));
        Assert.Equal(issuer.Issuer, reply.Issuer);
    }

    [Fact]
    public async Task UnreachableTrustedIssuer_RefusesItsTokensButNotOthers()
    {
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = "http://127.0.0.1:9",
        });
        var client = await hub.RegisterAsync(new ClientRegistration(ClientKind.Admin, "Hub", ["hlmhub.test"]));
        var token = await hub.GetTokenAsync(client);

        await using var stranger = await MiniIssuer.StartAsync();
        var strangerToken = stranger.Sign(stranger.Claims("hlmhub", "x", "admin", binding: null, scope: "hlmhub.test"));

        var reply = await hub.CallAsync("WhoAmI", token);
        var first = await hub.CallFailsAsync("WhoAmI", strangerToken);
        var second = await hub.CallFailsAsync("WhoAmI", strangerToken);

        Assert.Equal("HubAdmin", reply.Kind);
        Assert.Equal(StatusCode.Unauthenticated, first.StatusCode);
        Assert.Contains("not trusted", second.Detail, StringComparison.Ordinal);
        // The unreachable authority is asked once, then left alone for a while instead of on every call.
        Assert.Single(hub.Logs, r => r.EventId.Id == IdentityEventIds.IssuerMetadataUnavailable);
    }
}
