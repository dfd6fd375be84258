using Grpc.Core;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.Options;

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
        Assert.False(File.Exists(Path.Combine(hub.DataDirectory, BootstrapAdmin.FileName)));
        Assert.Equal(issuer.Issuer, reply.Issuer);
    }

    [Fact]
    public async Task UnreachableTrustedIssuer_RefusesItsTokensButNotOthers()
    {
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = "http://127.0.0.1:9",
        });
        // JwtBearer logs its failed metadata fetch as an error: an operator must see an unreachable issuer.
        hub.ExpectErrorLog(r => r.Category.StartsWith("HlmHub.Identity.ResourceServer", StringComparison.Ordinal)
            || r.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        var client = await hub.RegisterAsync(new ClientRegistration(ClientKind.Admin, "Hub", ["hlmhub.test"]));
        var token = await hub.GetTokenAsync(client);

        await using var stranger = await MiniIssuer.StartAsync();
        var strangerToken = stranger.Sign(stranger.Claims("hlmhub", "x", "partner", "maaf", scope: "hlmhub.test"));
        var claimsTheUnreachable = stranger.Claims("hlmhub", "x", "partner", "maaf", scope: "hlmhub.test");
        claimsTheUnreachable["iss"] = "http://127.0.0.1:9";

        var reply = await hub.CallAsync("WhoAmI", token);
        var untrusted = await hub.CallFailsAsync("WhoAmI", strangerToken);
        var unreachable = await hub.CallFailsAsync("WhoAmI", stranger.Sign(claimsTheUnreachable));

        Assert.Equal("HubAdmin", reply.Kind);
        // A token from an issuer nobody trusts is refused on its iss, without asking any issuer.
        Assert.Equal(StatusCode.Unauthenticated, untrusted.StatusCode);
        Assert.Contains("not trusted", untrusted.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, unreachable.StatusCode);
        Assert.Contains("could not be reached", unreachable.Detail, StringComparison.Ordinal);
        Assert.Contains(hub.Logs, r => r.EventId.Id == IdentityEventIds.IssuerMetadataUnavailable);
    }

    [Fact]
    public async Task AnAdminTokenWhoseClubClaimIsNotOneId_IsNoHubAdministrator()
    {
        await using var issuer = await MiniIssuer.StartAsync();
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?> { ["Auth:Authority"] = issuer.Issuer });
        // What an identity provider writes for a club administrator whose mapper is multivalued (Keycloak's toggle,
        // Entra's arrays), or whose attribute is empty: the token is about a club, never a hub administrator.
        var refusals = new List<Status>();
        foreach (object club in new object[] { new[] { "club-pch" }, new[] { "club-pch", "club-other" }, "", 42, null! })
        {
            var claims = issuer.Claims("hlmhub", "kc-club-admin", "admin", binding: null, scope: "hlmhub.admin");
            claims["hlmhub_club"] = club;
            refusals.Add(await hub.CallFailsAsync("ManageClub", issuer.Sign(claims), ownerId: "club-elsewhere"));
        }

        Assert.All(refusals, status => Assert.Equal(StatusCode.PermissionDenied, status.StatusCode));
        Assert.Empty(hub.Probe.Executed);
    }

    [Fact]
    public async Task ExternalIssuersAdminToken_IsRefusedByDefault()
    {
        await using var issuer = await MiniIssuer.StartAsync();
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = issuer.Issuer,
        });
        var hubAdmin = issuer.Sign(issuer.Claims("hlmhub", "ext-admin", "admin", binding: null, scope: "hlmhub.admin"));
        var clubAdmin = issuer.Sign(issuer.Claims("hlmhub", "ext-club-admin", "admin", binding: "club-pch", scope: "hlmhub.admin"));
        var partner = issuer.Sign(issuer.Claims("hlmhub", "ext-partner", "partner", "maaf", scope: "hlmhub.offers.read"));

        var refusedHubAdmin = await hub.CallFailsAsync("ManageClub", hubAdmin, ownerId: "club-pch");
        var refusedClubAdmin = await hub.CallFailsAsync("ManageClub", clubAdmin, ownerId: "club-pch");
        var accepted = await hub.CallAsync("ReadOffers", partner, ownerId: "maaf");

        Assert.Equal(StatusCode.Unauthenticated, refusedHubAdmin.StatusCode);
        Assert.Contains("may not assert HubAdmin", refusedHubAdmin.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, refusedClubAdmin.StatusCode);
        Assert.Equal("Partner", accepted.Kind);
        Assert.Equal(["ReadOffers"], hub.Probe.Executed);
    }

    [Fact]
    public async Task ExternalIssuersAdminToken_IsAcceptedWhenItsCallerKindsAllowIt()
    {
        await using var issuer = await MiniIssuer.StartAsync();
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = issuer.Issuer,
            ["Auth:TrustedIssuers:0:AllowedCallerKinds:0"] = "ClubAdmin",
        });
        var hubAdmin = issuer.Sign(issuer.Claims("hlmhub", "ext-admin", "admin", binding: null, scope: "hlmhub.admin"));
        var clubAdmin = issuer.Sign(issuer.Claims("hlmhub", "ext-club-admin", "admin", binding: "club-pch", scope: "hlmhub.admin"));
        var partner = issuer.Sign(issuer.Claims("hlmhub", "ext-partner", "partner", "maaf", scope: "hlmhub.offers.read"));

        var club = await hub.CallAsync("ManageClub", clubAdmin, ownerId: "club-pch");
        var refusedHubAdmin = await hub.CallFailsAsync("ManageClub", hubAdmin, ownerId: "club-pch");
        var refusedPartner = await hub.CallFailsAsync("ReadOffers", partner, ownerId: "maaf");

        Assert.Equal("ClubAdmin", club.Kind);
        Assert.Equal(StatusCode.Unauthenticated, refusedHubAdmin.StatusCode);
        // The list replaces the default: this issuer may now assert club administrators only.
        Assert.Equal(StatusCode.Unauthenticated, refusedPartner.StatusCode);
    }

    [Theory]
    [InlineData("Auth:Authority", "Auth:TrustedIssuers:0:Authority", "Auth:TrustedIssuers:0:Authority repeats the issuer 'https://idp.example/' of Auth:Authority")]
    [InlineData("Auth:TrustedIssuers:0:Authority", "Auth:TrustedIssuers:1:Authority", "Auth:TrustedIssuers:1:Authority repeats the issuer 'https://idp.example/' of Auth:TrustedIssuers:0:Authority")]
    [InlineData("Auth:TrustedIssuers:0:Authority", "Auth:TrustedIssuers:1:Issuer", "Auth:TrustedIssuers:1:Issuer repeats the issuer 'https://idp.example/' of Auth:TrustedIssuers:0:Authority")]
    public async Task OneIssuerTrustedTwice_StopsTheStartWithOneLineNamingIt(string first, string second, string expected)
    {
        var settings = new Dictionary<string, string?> { [first] = "https://idp.example/", [second] = "https://idp.example/" };
        if (second.EndsWith(":Issuer", StringComparison.Ordinal))
        {
            settings["Auth:TrustedIssuers:1:Authority"] = "https://discovery.idp.example/";
        }

        // Started, the hub would answer every call with an internal error: it must not start.
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var hub = await IdentityTestHost.StartAsync(settings);
        });

        var failure = Assert.Single(refused.Failures);
        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
    }
}
