using HlmHub.Identity.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// Chooses, for each request, who reads its bearer token (for <see cref="HubTokenHandler"/>): a token validated
/// before is answered from the cache; a new one goes to the JwtBearer
/// scheme of the issuer its <c>iss</c> names, read here without validation only to route it. Tokens that can
/// never pass (missing, oversized, not a JWT, a forbidden algorithm, no <c>kid</c>, an issuer the hub does not
/// trust) are refused here, before any key lookup or metadata fetch.
/// </summary>
internal sealed class TokenRouter
{
    /// <summary>Largest token accepted: far above any real access token, small enough to parse cheaply.</summary>
    internal const int MaxTokenLength = 16 * 1024;

    private const string BearerPrefix = "Bearer ";

    private readonly ValidatedTokenCache _cache;
    private readonly Dictionary<string, string> _schemeByIssuer;
    private readonly HashSet<string> _allowedAlgorithms;
    private readonly EmbeddedIssuerUrl? _embeddedIssuer;
    private readonly IPublishedSigningKeys _embeddedKeys;

    private readonly RevokedClientTokens _revokedTokens;

    public TokenRouter(
        ValidatedTokenCache cache, IOptions<AuthOptions> options, IssuerSchemes schemes, EmbeddedIssuerUrl embeddedIssuer, IPublishedSigningKeys embeddedKeys,
        RevokedClientTokens revokedTokens)
    {
        _cache = cache;
        _revokedTokens = revokedTokens;
        _embeddedKeys = embeddedKeys;
        _schemeByIssuer = schemes.External.ToDictionary(issuer => issuer.Issuer, issuer => issuer.Scheme, StringComparer.Ordinal);
        _allowedAlgorithms = new HashSet<string>(options.Value.EffectiveAllowedAlgorithms, StringComparer.Ordinal);
        _embeddedIssuer = schemes.EmbeddedEnabled ? embeddedIssuer : null;
    }

    /// <summary>
    /// Who reads the request's token: the cache for a token validated before, the JwtBearer scheme of its issuer for
    /// a new one; or no one, for no token and for a token refused here (with the reason). Reads the request only.
    /// </summary>
    public TokenRoute Route(HttpRequest request)
    {
        var header = ReadBearerToken(request);
        if (header.IsEmpty)
        {
            return TokenRoute.NoToken;
        }

        // A token of the embedded issuer is served from the cache only while its key is published: a revoked key's
        // tokens stop at once on this instance, and within the key set's refresh interval on the others.
        if (_cache.TryGet(header, out var entry) && (entry.Scheme != HubAuthentication.EmbeddedScheme || _embeddedKeys.StillPublishes(entry.KeyId)))
        {
            // So is a revoked one (its client disabled, or its secret rotated since): at once on the instance that did
            // it, within the refresh interval elsewhere.
            return entry.Scheme == HubAuthentication.EmbeddedScheme && CallerClaimsIdentity.Find(entry.Principal) is { } caller
                && _revokedTokens.RefusalFor(caller.ClientId, caller.SecretRotatedAt) is { } refusal
                ? TokenRoute.Refused(refusal)
                : TokenRoute.FromCache(entry);
        }

        var token = header.ToString();
        if (token.Length > MaxTokenLength)
        {
            return TokenRoute.Refused("the token is too large");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return TokenRoute.Refused("the token is not a well-formed JWT");
        }

        // Checked before anything else so that "none" and HMAC tokens never reach key resolution.
        if (!_allowedAlgorithms.Contains(jwt.Alg))
        {
            return TokenRoute.Refused("the token's algorithm is not allowed");
        }

        if (string.IsNullOrEmpty(jwt.Kid))
        {
            return TokenRoute.Refused("the token names no signing key (kid)");
        }

        var issuer = jwt.Issuer;
        if (_embeddedIssuer is not null && _embeddedIssuer.TryGetIssuer(out var embedded) && string.Equals(issuer, embedded, StringComparison.Ordinal))
        {
            return TokenRoute.ToIssuer(HubAuthentication.EmbeddedScheme);
        }

        return _schemeByIssuer.TryGetValue(issuer, out var scheme) ? TokenRoute.ToIssuer(scheme) : TokenRoute.Refused("the token's issuer is not trusted");
    }

    /// <summary>The token in the request's single <c>authorization: Bearer</c> header, or empty; not copied.</summary>
    private static ReadOnlySpan<char> ReadBearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1)
        {
            return default;
        }

        var value = header[0];
        if (value is null || !value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return default;
        }

        return value.AsSpan(BearerPrefix.Length).Trim();
    }
}
