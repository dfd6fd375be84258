using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>private_key_jwt client assertions, in the two forms clients send.</summary>
internal static class ClientAssertions
{
    public const string Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>The draft rfc7523bis form OpenIddict asks for: <c>typ: client-authentication+jwt</c>, <c>aud</c> = the issuer.</summary>
    public static string Draft(ECDsa key, string clientId, string issuer, string? jti = null, TimeSpan? lifetime = null) =>
        Create(key, clientId, issuer, "client-authentication+jwt", jti, lifetime);

    /// <summary>The RFC 7523 form most libraries send: <c>typ: JWT</c>, <c>aud</c> = the token endpoint URL.</summary>
    public static string Rfc7523(ECDsa key, string clientId, string tokenEndpoint, string? jti = null, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null) =>
        Create(key, clientId, tokenEndpoint, "JWT", jti, lifetime, issuedAt);

    public static string Create(ECDsa key, string clientId, string audience, string type, string? jti = null, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var now = (issuedAt ?? TimeProvider.System.GetUtcNow()).UtcDateTime;
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = now,
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(1)),
            TokenType = type,
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = jti ?? Guid.NewGuid().ToString("N") },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The public part of <paramref name="key"/> as a JWK, as a client registers it.</summary>
    public static string PublicJwk(ECDsa key, string keyId = "client-key-1")
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["kid"] = keyId,
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        });
    }

    public static KeyValuePair<string, string>[] Form(string assertion) =>
    [
        new("grant_type", "client_credentials"),
        new("client_assertion_type", Type),
        new("client_assertion", assertion),
    ];
}
