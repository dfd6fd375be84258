using System.Security.Cryptography;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>An access token and what the token response says about it.</summary>
internal sealed record IssuedAccessToken(string AccessToken, TimeSpan ExpiresIn, string Scope);

/// <summary>Creates RFC 9068 JWT access tokens signed with the current embedded signing key.</summary>
internal sealed class AccessTokenIssuer(
    SigningKeyManager keys,
    EmbeddedIssuerUrl issuerUrl,
    IOptions<AuthOptions> options,
    TimeProvider timeProvider,
    ILogger<AccessTokenIssuer> logger)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<IssuedAccessToken> IssueAsync(OAuthClient client, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var keySet = await keys.GetKeySetAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        var lifetime = options.Value.TokenLifetime;
        var scope = string.Join(' ', scopes);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = client.ClientId,
            [HubClaims.ClientId] = client.ClientId,
            [JwtRegisteredClaimNames.Jti] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            [HubClaims.Kind] = client.Kind switch
            {
                ClientKind.Partner => HubClaims.KindPartner,
                ClientKind.Landlord => HubClaims.KindLandlord,
                _ => HubClaims.KindAdmin,
            },
        };
        if (scope.Length > 0)
        {
            claims[HubClaims.Scope] = scope;
        }
        AddIfPresent(claims, HubClaims.Partner, client.Kind == ClientKind.Partner ? client.PartnerId : null);
        AddIfPresent(claims, HubClaims.Landlord, client.Kind == ClientKind.Landlord ? client.LandlordId : null);
        AddIfPresent(claims, HubClaims.Club, client.Kind == ClientKind.Admin ? client.ClubId : null);

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuerUrl.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            TokenType = "at+jwt",
            SigningCredentials = keySet.Signing.Credentials,
            Claims = claims,
        };
        var token = _handler.CreateToken(descriptor);
        IdentityLog.TokenIssued(logger, client.ClientId, scope, keySet.Signing.KeyId);
        return new IssuedAccessToken(token, lifetime, scope);
    }

    private static void AddIfPresent(Dictionary<string, object> claims, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            claims[name] = value;
        }
    }
}
