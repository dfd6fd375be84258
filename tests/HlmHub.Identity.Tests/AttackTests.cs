using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using HlmHub.Identity.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Tests;

/// <summary>
/// Forged and misused tokens against a hub that trusts a second, independent issuer (a test-controlled key
/// served by discovery + JWKS on its own port). Each must be refused with the right status, the handler never run.
/// </summary>
public sealed class AttackTests : IAsyncLifetime
{
    private MiniIssuer _issuer = null!;
    private IdentityTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _issuer = await MiniIssuer.StartAsync();
        _host = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TrustedIssuers:0:Authority"] = _issuer.Issuer,
            ["Auth:TrustedIssuers:0:Audience"] = "hlmhub-partner-api",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private Dictionary<string, object> PartnerClaims() =>
        _issuer.Claims("hlmhub-partner-api", "ext-partner", "partner", "partner-a", "hlmhub.offers.read hlmhub.test");

    private async Task AssertRefusedAsync(string token, StatusCode expected, string? detail = null, string rpc = "ReadOffers", string owner = "partner-a")
    {
        var status = await _host.CallFailsAsync(rpc, token, owner);
        Assert.Equal(expected, status.StatusCode);
        if (detail is not null)
        {
            Assert.Contains(detail, status.Detail, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(token, status.Detail, StringComparison.Ordinal);
        Assert.Empty(_host.Probe.Executed);
        Assert.DoesNotContain(_host.Logs, r => r.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WellFormedTokenFromTrustedIssuer_IsAccepted()
    {
        var reply = await _host.CallAsync("ReadOffers", _issuer.Sign(PartnerClaims()), "partner-a");

        Assert.Equal("ext-partner", reply.ClientId);
        Assert.Equal(_issuer.Issuer, reply.Issuer);
    }

    [Fact]
    public async Task AlgNone_IsUnauthenticated() =>
        await AssertRefusedAsync(_issuer.Unsigned(PartnerClaims()), StatusCode.Unauthenticated, "algorithm");

    [Fact]
    public async Task Hs256SignedWithThePublicKey_IsUnauthenticated() =>
        await AssertRefusedAsync(_issuer.SignedWithPublicKeyAsHmac(PartnerClaims()), StatusCode.Unauthenticated, "algorithm");

    [Fact]
    public async Task Expired_IsUnauthenticated()
    {
        var claims = PartnerClaims();
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        claims["iat"] = now - 900;
        claims["exp"] = now - 300;
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.Unauthenticated, "expired");
    }

    [Fact]
    public async Task NotYetValid_IsUnauthenticated()
    {
        var claims = PartnerClaims();
        claims["nbf"] = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 300;
        claims["exp"] = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 900;
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.Unauthenticated, "not valid yet");
    }

    [Fact]
    public async Task WrongAudience_IsUnauthenticated()
    {
        var claims = PartnerClaims();
        claims["aud"] = "hlmhub";
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.Unauthenticated, "audience");
    }

    [Fact]
    public async Task WrongIssuerSignedWithTrustedKey_IsUnauthenticated()
    {
        var claims = PartnerClaims();
        claims["iss"] = "https://evil.example";
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.Unauthenticated, "issuer");
    }

    [Fact]
    public async Task UnknownKid_IsUnauthenticated()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await AssertRefusedAsync(_issuer.Sign(PartnerClaims(), key: otherKey, keyId: "unknown-kid"), StatusCode.Unauthenticated, "kid");
    }

    [Fact]
    public async Task KnownKidButOtherKey_IsUnauthenticated()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await AssertRefusedAsync(_issuer.Sign(PartnerClaims(), key: otherKey), StatusCode.Unauthenticated, "signature");
    }

    [Fact]
    public async Task TamperedPayload_IsUnauthenticated()
    {
        var token = _issuer.Sign(PartnerClaims());
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("partner-a", "partner-b", StringComparison.Ordinal);
        var tampered = parts[0] + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload)) + "." + parts[2];

        await AssertRefusedAsync(tampered, StatusCode.Unauthenticated, "signature", owner: "partner-b");
    }

    [Fact]
    public async Task PlainJwtTypeWhenAtJwtRequired_IsUnauthenticated() =>
        await AssertRefusedAsync(_issuer.Sign(PartnerClaims(), type: "JWT"), StatusCode.Unauthenticated, "typ");

    [Fact]
    public async Task ScopeNotGranted_IsPermissionDenied()
    {
        var claims = PartnerClaims();
        claims["scope"] = "hlmhub.test";
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.PermissionDenied, "hlmhub.offers.read");
    }

    [Fact]
    public async Task PartnerAActingOnPartnerB_IsPermissionDenied() =>
        await AssertRefusedAsync(_issuer.Sign(PartnerClaims()), StatusCode.PermissionDenied, "does not own the partner this request is about", owner: "partner-b");

    [Fact]
    public async Task TokenWithoutBinding_CanCallNothing()
    {
        var claims = PartnerClaims();
        claims.Remove("hlmhub_kind");
        await AssertRefusedAsync(_issuer.Sign(claims), StatusCode.PermissionDenied, "unbound", rpc: "WhoAmI");
    }

    [Fact]
    public async Task TokenFromUntrustedIssuer_IsUnauthenticated()
    {
        await using var untrusted = await MiniIssuer.StartAsync();
        var claims = untrusted.Claims("hlmhub-partner-api", "ext-partner", "partner", "partner-a", "hlmhub.offers.read");

        await AssertRefusedAsync(untrusted.Sign(claims), StatusCode.Unauthenticated, "not trusted");
    }
}
