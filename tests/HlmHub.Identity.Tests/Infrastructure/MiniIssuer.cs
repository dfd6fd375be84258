using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HlmHub.Identity.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>
/// A minimal, independent authorization server on its own port and key: a discovery document that puts its
/// JWKS at <c>/keys</c> (not where the hub would), like other issuers do, and a way to mint any token —
/// well-formed ones, and the forged ones attacks are made of.
/// </summary>
internal sealed class MiniIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MiniIssuer(WebApplication app, string issuer, ECDsa key, string keyId)
    {
        _app = app;
        Issuer = issuer;
        Key = key;
        KeyId = keyId;
    }

    public string Issuer { get; }

    public ECDsa Key { get; }

    public string KeyId { get; }

    public string PublicJwk => SigningKeyManager.PublicJwkJson(Key, KeyId, "ES256");

    public static async Task<MiniIssuer> StartAsync()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyId = "mini-" + Guid.NewGuid().ToString("N")[..8];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        string? issuer = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["issuer"] = issuer!,
            ["jwks_uri"] = issuer + "/keys",
            ["token_endpoint"] = issuer + "/token",
        }), "application/json"));
        app.MapGet("/keys", () => Results.Text("{\"keys\":[" + SigningKeyManager.PublicJwkJson(key, keyId, "ES256") + "]}", "application/json"));
        await app.StartAsync().DefaultTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        issuer = new Uri(address).GetLeftPart(UriPartial.Authority);
        return new MiniIssuer(app, issuer, key, keyId);
    }

    /// <summary>Standard claims for a token this issuer would give a client, valid now for 5 minutes.</summary>
    public Dictionary<string, object> Claims(string audience, string clientId, string kind, string? binding, string? scope)
    {
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = clientId,
            ["aud"] = audience,
            ["iat"] = now,
            ["exp"] = now + 300,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["client_id"] = clientId,
            ["hlmhub_kind"] = kind,
        };
        if (binding is not null)
        {
            claims[kind switch { "partner" => "hlmhub_partner", "landlord" => "hlmhub_landlord", _ => "hlmhub_club" }] = binding;
        }
        if (scope is not null)
        {
            claims["scope"] = scope;
        }
        return claims;
    }

    /// <summary>Signs <paramref name="claims"/> with ES256 and this issuer's key (or another key).</summary>
    public string Sign(Dictionary<string, object> claims, string type = "at+jwt", ECDsa? key = null, string? keyId = null)
    {
        var header = new Dictionary<string, object> { ["alg"] = "ES256", ["typ"] = type, ["kid"] = keyId ?? KeyId };
        var signingInput = Encode(header) + "." + Encode(claims);
        var signature = (key ?? Key).SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>An unsigned token (<c>alg: none</c>).</summary>
    public string Unsigned(Dictionary<string, object> claims) =>
        Encode(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = "at+jwt", ["kid"] = KeyId }) + "." + Encode(claims) + ".";

    /// <summary>An HS256 token whose HMAC key is this issuer's public JWK: the classic algorithm-confusion forgery.</summary>
    public string SignedWithPublicKeyAsHmac(Dictionary<string, object> claims)
    {
        var signingInput = Encode(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "at+jwt", ["kid"] = KeyId }) + "." + Encode(claims);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(PublicJwk), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    public static string Encode(Dictionary<string, object> part) => Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(part));

    /// <summary>A private_key_jwt client assertion (RFC 7523) signed with <paramref name="key"/>.</summary>
    public static string ClientAssertion(ECDsa key, string clientId, string audience, string? jti = null, TimeSpan? lifetime = null)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = now,
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(1)),
            Claims = new Dictionary<string, object> { ["sub"] = clientId, ["jti"] = jti ?? Guid.NewGuid().ToString("N") },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        Key.Dispose();
    }
}
