using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>The outcome of validating a bearer token: the caller, or why the token was refused.</summary>
internal readonly record struct TokenValidationOutcome(CallerIdentity? Caller, string? Failure)
{
    public static TokenValidationOutcome Refused(string failure) => new(null, failure);
}

/// <summary>
/// Validates access tokens from every trusted issuer: the embedded one (keys read in-process) and each
/// external authority (discovery document + JWKS, cached and refreshed by <see cref="ConfigurationManager{T}"/>).
/// Checks signature with a known <c>kid</c>, algorithm allow-list, <c>typ</c>, issuer, audience and lifetime.
/// A token that passed is remembered (bounded, never past its expiry) so the next calls with it cost a
/// dictionary lookup instead of a signature check.
/// </summary>
internal sealed class AccessTokenValidator
{
    /// <summary>Largest token accepted: far above any real access token, small enough to parse cheaply.</summary>
    internal const int MaxTokenLength = 16 * 1024;

    private readonly AuthOptions _options;
    private readonly SigningKeyManager? _embeddedKeys;
    private readonly EmbeddedIssuerUrl? _embeddedIssuer;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<AccessTokenValidator> _logger;
    private readonly IReadOnlyList<ExternalIssuer> _externalIssuers;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly ConcurrentDictionary<string, CachedValidation> _validated = new(StringComparer.Ordinal);
    private readonly HashSet<string> _allowedAlgorithms;

    public AccessTokenValidator(
        IOptions<AuthOptions> options,
        TimeProvider timeProvider,
        ILogger<AccessTokenValidator> logger,
        SigningKeyManager? embeddedKeys = null,
        EmbeddedIssuerUrl? embeddedIssuer = null)
    {
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        var embedded = _options.EmbeddedIssuer.Enabled;
        _embeddedKeys = embedded ? embeddedKeys : null;
        _embeddedIssuer = embedded ? embeddedIssuer : null;
        _allowedAlgorithms = new HashSet<string>(_options.EffectiveAllowedAlgorithms, StringComparer.Ordinal);
        var external = new List<ExternalIssuer>();
        if (!_options.UsesEmbeddedAuthority)
        {
            external.Add(new ExternalIssuer(_options.Authority, _options.Audience, _options.RequireHttpsMetadata, timeProvider));
        }
        foreach (var trusted in _options.TrustedIssuers ?? [])
        {
            if (!string.IsNullOrWhiteSpace(trusted.Authority))
            {
                external.Add(new ExternalIssuer(trusted.Authority, trusted.Audience ?? _options.Audience, _options.RequireHttpsMetadata, timeProvider));
            }
        }
        _externalIssuers = external;
    }

    public async ValueTask<TokenValidationOutcome> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        if (_validated.TryGetValue(token, out var cached))
        {
            if (now < cached.Until)
            {
                return new TokenValidationOutcome(cached.Caller, null);
            }
            _validated.TryRemove(token, out _);
        }
        if (token.Length > MaxTokenLength)
        {
            return TokenValidationOutcome.Refused("the token is too large");
        }
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return TokenValidationOutcome.Refused("the token is not a well-formed JWT");
        }
        // Checked before anything else so that "none" and HMAC tokens never reach key resolution.
        if (!_allowedAlgorithms.Contains(jwt.Alg))
        {
            return TokenValidationOutcome.Refused($"the token's algorithm '{Printable(jwt.Alg)}' is not allowed");
        }
        if (string.IsNullOrEmpty(jwt.Kid))
        {
            return TokenValidationOutcome.Refused("the token names no signing key (kid)");
        }

        var outcome = await ValidateWithIssuerAsync(token, jwt.Issuer, cancellationToken);
        if (outcome.Caller is { } caller)
        {
            Remember(token, caller, now);
        }
        return outcome;
    }

    private async ValueTask<TokenValidationOutcome> ValidateWithIssuerAsync(string token, string issuer, CancellationToken cancellationToken)
    {
        if (_embeddedKeys is not null && _embeddedIssuer is not null
            && _embeddedIssuer.TryGetIssuer(out var embeddedIssuer) && string.Equals(issuer, embeddedIssuer, StringComparison.Ordinal))
        {
            var keys = await _embeddedKeys.GetKeySetAsync(cancellationToken);
            return await ValidateAsync(token, issuer, _options.Audience, keys.ValidationKeys);
        }
        foreach (var external in _externalIssuers)
        {
            var configuration = await external.TryGetConfigurationAsync(_logger, cancellationToken);
            if (configuration is null || !string.Equals(configuration.Issuer, issuer, StringComparison.Ordinal))
            {
                continue;
            }
            var outcome = await ValidateAsync(token, issuer, external.Audience, configuration.SigningKeys.ToArray());
            if (outcome.Failure == SigningKeyUnknown)
            {
                // The issuer may have rotated since the JWKS was cached: refresh once (rate-limited by the
                // configuration manager) and retry.
                external.Manager.RequestRefresh();
                configuration = await external.TryGetConfigurationAsync(_logger, cancellationToken);
                if (configuration is not null)
                {
                    outcome = await ValidateAsync(token, issuer, external.Audience, configuration.SigningKeys.ToArray());
                }
            }
            return outcome;
        }
        return TokenValidationOutcome.Refused("the token's issuer is not trusted");
    }

    private const string SigningKeyUnknown = "the token's signing key (kid) is not known";

    private async Task<TokenValidationOutcome> ValidateAsync(string token, string issuer, string audience, IReadOnlyList<SecurityKey> keys)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = _allowedAlgorithms,
            ValidTypes = _options.EffectiveAcceptedTokenTypes,
            ClockSkew = _options.ClockSkew,
            LifetimeValidator = LifetimeValidation.Using(_timeProvider, _options.ClockSkew),
            RequireAudience = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            // The kid must name a published key: trying every key would accept tokens from keys the issuer
            // no longer announces under that name.
            TryAllIssuerSigningKeys = false,
            ValidateIssuerSigningKey = false,
            SaveSigninToken = false,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken validated)
        {
            return new TokenValidationOutcome(CallerIdentity.FromToken(validated), null);
        }
        return TokenValidationOutcome.Refused(Describe(result.Exception));
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenNoExpirationException => "the token has no expiry",
        SecurityTokenInvalidAudienceException => "the token's audience is not accepted",
        SecurityTokenInvalidIssuerException => "the token's issuer is not trusted",
        SecurityTokenSignatureKeyNotFoundException => SigningKeyUnknown,
        SecurityTokenInvalidSignatureException => "the token's signature is invalid",
        SecurityTokenInvalidAlgorithmException => "the token's algorithm is not allowed",
        SecurityTokenInvalidTypeException => "the token's type (typ) is not accepted",
        _ => "the token is invalid",
    };

    private void Remember(string token, CallerIdentity caller, DateTimeOffset now)
    {
        var duration = _options.ValidatedTokenCacheDuration;
        if (duration <= TimeSpan.Zero || _options.ValidatedTokenCacheMaxEntries <= 0)
        {
            return;
        }
        var until = now + duration < caller.ExpiresAt ? now + duration : caller.ExpiresAt;
        if (_validated.Count >= _options.ValidatedTokenCacheMaxEntries)
        {
            foreach (var entry in _validated)
            {
                if (entry.Value.Until <= now)
                {
                    _validated.TryRemove(entry.Key, out _);
                }
            }
            if (_validated.Count >= _options.ValidatedTokenCacheMaxEntries)
            {
                // Still full of live tokens: start over rather than grow; the cost is one signature check each.
                _validated.Clear();
            }
        }
        _validated[token] = new CachedValidation(caller, until);
    }

    // Attacker-controlled header values go into messages and logs: keep them short and printable.
    private static string Printable(string value) =>
        new(value.Take(20).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    private sealed record CachedValidation(CallerIdentity Caller, DateTimeOffset Until);

    private sealed class ExternalIssuer
    {
        /// <summary>How long a discovery or JWKS request may take.</summary>
        private static readonly TimeSpan MetadataRequestTimeout = TimeSpan.FromSeconds(10);

        /// <summary>
        /// After a failed discovery or JWKS fetch, how long to wait before trying again: otherwise every call
        /// carrying a token from an unknown issuer would wait on an unreachable authority.
        /// </summary>
        internal static readonly TimeSpan MetadataRetryInterval = TimeSpan.FromSeconds(30);

        private readonly TimeProvider _timeProvider;
        private long _retryAfterTicks;

        public ExternalIssuer(string authority, string audience, bool requireHttps, TimeProvider timeProvider)
        {
            _timeProvider = timeProvider;
            Authority = authority.TrimEnd('/');
            Audience = audience;
            var isLoopback = Uri.TryCreate(Authority, UriKind.Absolute, out var uri) && uri.IsLoopback;
            var retriever = new HttpDocumentRetriever(new HttpClient { Timeout = MetadataRequestTimeout })
            {
                RequireHttps = requireHttps && !isLoopback,
            };
            Manager = new ConfigurationManager<OpenIdConnectConfiguration>(
                Authority + IdentityEndpointPaths.OpenIdConfiguration,
                new OpenIdConnectConfigurationRetriever(),
                retriever);
        }

        public string Authority { get; }

        public string Audience { get; }

        public ConfigurationManager<OpenIdConnectConfiguration> Manager { get; }

        public async Task<OpenIdConnectConfiguration?> TryGetConfigurationAsync(ILogger logger, CancellationToken cancellationToken)
        {
            var now = _timeProvider.GetUtcNow().UtcTicks;
            if (now < Interlocked.Read(ref _retryAfterTicks))
            {
                return null;
            }
            try
            {
                return await Manager.GetConfigurationAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidOperationException or IOException or HttpRequestException or ArgumentException)
            {
                Interlocked.Exchange(ref _retryAfterTicks, now + MetadataRetryInterval.Ticks);
                IdentityLog.IssuerMetadataUnavailable(logger, Authority, exception.GetType().Name + ": " + exception.Message);
                return null;
            }
        }
    }
}
