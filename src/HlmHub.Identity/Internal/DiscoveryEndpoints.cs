using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>Authorization server metadata (RFC 8414 and OpenID Connect discovery) and the JWKS.</summary>
internal sealed class DiscoveryEndpoints(EmbeddedIssuerUrl issuerUrl, SigningKeyManager keys, IOptions<AuthOptions> options)
{
    /// <summary>How long clients may cache the JWKS: short, so a rotation by RotateNowAsync spreads quickly.</summary>
    private const int JwksMaxAgeSeconds = 300;

    /// <summary>How long clients may cache the metadata document, which changes only with configuration.</summary>
    private const int MetadataMaxAgeSeconds = 3600;

    public async Task WriteMetadataAsync(HttpContext context)
    {
        var algorithms = options.Value.EffectiveAllowedAlgorithms;
        var document = new Dictionary<string, object>
        {
            ["issuer"] = issuerUrl.Issuer,
            ["token_endpoint"] = issuerUrl.TokenEndpoint,
            ["jwks_uri"] = issuerUrl.JwksUri,
            ["grant_types_supported"] = new[] { "client_credentials" },
            // Only the token endpoint exists: no authorization endpoint, hence no response type.
            ["response_types_supported"] = Array.Empty<string>(),
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_basic", "client_secret_post", "private_key_jwt" },
            ["token_endpoint_auth_signing_alg_values_supported"] = algorithms,
            ["access_token_signing_alg_values_supported"] = new[] { options.Value.EmbeddedIssuer.SigningAlgorithm },
        };
        context.Response.Headers.CacheControl = $"public, max-age={MetadataMaxAgeSeconds}";
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, document, cancellationToken: context.RequestAborted);
    }

    public async Task WriteJwksAsync(HttpContext context)
    {
        var keySet = await keys.GetKeySetAsync(context.RequestAborted);
        // The stored public JWKs are already JSON objects: join them rather than re-serialise.
        var json = new StringBuilder("{\"keys\":[");
        json.AppendJoin(',', keySet.Published.Select(k => k.PublicJwk));
        json.Append("]}");
        context.Response.Headers.CacheControl = $"public, max-age={JwksMaxAgeSeconds}";
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(json.ToString(), context.RequestAborted);
    }
}
