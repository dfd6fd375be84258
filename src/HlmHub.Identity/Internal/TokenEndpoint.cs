using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>
/// <c>POST /connect/token</c>: the client credentials grant (RFC 6749 §4.4) with client_secret_basic,
/// client_secret_post or private_key_jwt (RFC 7523) client authentication. Every failure is an RFC 6749
/// §5.2 error response; every response carries <c>Cache-Control: no-store</c>.
/// </summary>
internal sealed class TokenEndpoint(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    AccessTokenIssuer issuer,
    EmbeddedIssuerUrl issuerUrl,
    FailedAuthenticationLimiter limiter,
    IOptions<AuthOptions> options,
    TimeProvider timeProvider,
    ILogger<TokenEndpoint> logger)
{
    internal const string ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private const string ClientCredentialsGrant = "client_credentials";

    private static readonly JsonWebTokenHandler AssertionHandler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        var remoteAddress = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

        var form = await ReadFormAsync(context, cancellationToken);
        if (form is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The request must be an application/x-www-form-urlencoded POST within the size limit.");
            return;
        }
        foreach (var parameter in form)
        {
            if (parameter.Value.Count > 1)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", $"Parameter '{parameter.Key}' is repeated.");
                return;
            }
        }
        var credentials = ReadClientCredentials(context, form);
        if (credentials.Error is { } credentialError)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", credentialError);
            return;
        }
        if (limiter.BlockedFor(credentials.ClientId, remoteAddress) is { } retryAfter)
        {
            IdentityLog.TokenRequestsRateLimited(logger, remoteAddress, credentials.ClientId ?? "unknown");
            context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "invalid_client", "Too many failed client authentications: retry later.");
            return;
        }
        if (credentials.ClientId is null)
        {
            await WriteInvalidClientAsync(context, "No client authentication was provided.");
            return;
        }

        var authentication = await AuthenticateAsync(credentials, cancellationToken);
        if (authentication.Client is not { } client)
        {
            limiter.RecordFailure(credentials.ClientId, remoteAddress);
            IdentityLog.ClientAuthenticationFailed(logger, remoteAddress, credentials.ClientId, authentication.Failure ?? "unknown");
            await WriteInvalidClientAsync(context, "Client authentication failed.");
            return;
        }

        var grantType = form["grant_type"].ToString();
        if (grantType.Length == 0)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "Parameter 'grant_type' is required.");
            return;
        }
        if (grantType != ClientCredentialsGrant)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type", "Only the client_credentials grant is supported.");
            return;
        }

        var allowed = SplitScopes(client.AllowedScopes);
        var requested = form.ContainsKey("scope") ? SplitScopes(form["scope"].ToString()) : allowed;
        var refused = requested.Where(s => !allowed.Contains(s)).ToList();
        if (refused.Count > 0 || requested.Count == 0)
        {
            // Never a silently reduced token: the client learns which scope it may not have.
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_scope",
                refused.Count > 0 ? $"Scope not allowed for this client: {string.Join(' ', refused)}." : "No scope requested and none allowed.");
            return;
        }

        var token = await issuer.IssueAsync(client, requested, cancellationToken);
        await WriteJsonAsync(context, StatusCodes.Status200OK, new Dictionary<string, object>
        {
            ["access_token"] = token.AccessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = (long)token.ExpiresIn.TotalSeconds,
            ["scope"] = token.Scope,
        });
    }

    private async Task<IFormCollection?> ReadFormAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }
        var limit = options.Value.EmbeddedIssuer.MaxTokenRequestBytes;
        if (context.Request.ContentLength > limit)
        {
            return null;
        }
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
        try
        {
            return await context.Request.ReadFormAsync(new FormOptions { ValueCountLimit = 32, KeyLengthLimit = 100, ValueLengthLimit = limit }, cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException)
        {
            return null;
        }
    }

    private static ClientCredentials ReadClientCredentials(HttpContext context, IFormCollection form)
    {
        var formClientId = NullIfEmpty(form["client_id"].ToString());
        var formSecret = NullIfEmpty(form["client_secret"].ToString());
        var assertionType = NullIfEmpty(form["client_assertion_type"].ToString());
        var assertion = NullIfEmpty(form["client_assertion"].ToString());

        string? basicClientId = null;
        string? basicSecret = null;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!AuthenticationHeaderValue.TryParse(authorization, out var header)
                || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
                || !TryDecodeBasic(header.Parameter, out basicClientId, out basicSecret))
            {
                return ClientCredentials.Invalid("The Authorization header is not valid HTTP Basic client authentication.");
            }
        }

        var methods = (basicClientId is not null ? 1 : 0) + (formSecret is not null ? 1 : 0) + (assertion is not null || assertionType is not null ? 1 : 0);
        if (methods > 1)
        {
            return ClientCredentials.Invalid("Use exactly one client authentication method.");
        }
        if (basicClientId is not null)
        {
            if (formClientId is not null && formClientId != basicClientId)
            {
                return ClientCredentials.Invalid("client_id does not match the Authorization header.");
            }
            return new ClientCredentials(basicClientId, basicSecret, null, null);
        }
        if (formSecret is not null)
        {
            return formClientId is null
                ? ClientCredentials.Invalid("client_secret requires client_id.")
                : new ClientCredentials(formClientId, formSecret, null, null);
        }
        if (assertion is not null || assertionType is not null)
        {
            if (assertionType != ClientAssertionType || assertion is null)
            {
                return ClientCredentials.Invalid($"client_assertion_type must be {ClientAssertionType} with a client_assertion.");
            }
            string? assertedClientId;
            try
            {
                assertedClientId = new JsonWebToken(assertion).Issuer;
            }
            catch (ArgumentException)
            {
                return ClientCredentials.Invalid("client_assertion is not a well-formed JWT.");
            }
            if (string.IsNullOrEmpty(assertedClientId) || (formClientId is not null && formClientId != assertedClientId))
            {
                return ClientCredentials.Invalid("client_assertion's iss must be the client_id.");
            }
            return new ClientCredentials(assertedClientId, null, assertion, null);
        }
        // No credentials: the client id, if any, is still counted against the rate limit.
        return new ClientCredentials(formClientId, null, null, null);
    }

    // RFC 6749 §2.3.1: client id and secret are form-urlencoded before being joined and base64-encoded.
    private static bool TryDecodeBasic(string? parameter, out string? clientId, out string? secret)
    {
        clientId = null;
        secret = null;
        if (string.IsNullOrEmpty(parameter))
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }
        clientId = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
        secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
        return secret.Length > 0;
    }

    private async Task<ClientAuthentication> AuthenticateAsync(ClientCredentials credentials, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var client = await db.OAuthClients.AsNoTracking().SingleOrDefaultAsync(c => c.ClientId == credentials.ClientId, cancellationToken);
        if (client is null)
        {
            // Spend the same work as a real verification so response time does not reveal which ids exist.
            ClientSecretHasher.Verify(credentials.Secret ?? "", DummyHash.Value);
            return ClientAuthentication.Failed("unknown client");
        }
        if (client.DisabledAt is not null)
        {
            return ClientAuthentication.Failed("client disabled");
        }
        if (credentials.Secret is not null)
        {
            return client.SecretHash is not null && ClientSecretHasher.Verify(credentials.Secret, client.SecretHash)
                ? new ClientAuthentication(client, null)
                : ClientAuthentication.Failed("wrong secret");
        }
        if (credentials.Assertion is not null)
        {
            var failure = await ValidateAssertionAsync(db, client, credentials.Assertion, cancellationToken);
            return failure is null ? new ClientAuthentication(client, null) : ClientAuthentication.Failed(failure);
        }
        return ClientAuthentication.Failed("no credentials");
    }

    private async Task<string?> ValidateAssertionAsync(HlmHubDbContext db, OAuthClient client, string assertion, CancellationToken cancellationToken)
    {
        if (client.PublicJwk is null)
        {
            return "client has no public key";
        }
        JsonWebKey key;
        try
        {
            key = new JsonWebKey(client.PublicJwk);
        }
        catch (ArgumentException)
        {
            return "client's public key is unreadable";
        }
        var embedded = options.Value.EmbeddedIssuer;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = client.ClientId,
            // RFC 7523 §3: the audience identifies the authorization server: its token endpoint URL (or its
            // issuer identifier, which RFC 7523's successors recommend).
            ValidAudiences = [issuerUrl.TokenEndpoint, issuerUrl.Issuer],
            IssuerSigningKey = key,
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = options.Value.EffectiveAllowedAlgorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            RequireAudience = true,
            ClockSkew = options.Value.ClockSkew,
            LifetimeValidator = LifetimeValidation.Using(timeProvider, options.Value.ClockSkew),
            ValidateIssuerSigningKey = false,
        };
        var result = await AssertionHandler.ValidateTokenAsync(assertion, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken token)
        {
            return "assertion invalid: " + (result.Exception?.GetType().Name ?? "unknown");
        }
        if (token.Subject != client.ClientId)
        {
            return "assertion sub is not the client id";
        }
        var jti = token.Id;
        if (string.IsNullOrEmpty(jti) || jti.Length > ClientAssertionUse.JtiMaxLength)
        {
            return "assertion has no usable jti";
        }
        var expiresAt = new DateTimeOffset(token.ValidTo, TimeSpan.Zero);
        var issuedAt = token.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out _)
            ? new DateTimeOffset(token.IssuedAt, TimeSpan.Zero)
            : timeProvider.GetUtcNow();
        if (expiresAt - issuedAt > embedded.ClientAssertionMaxLifetime)
        {
            return "assertion lifetime too long";
        }

        var now = timeProvider.GetUtcNow();
        await db.ClientAssertionUses.Where(u => u.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        // Checked first so that an ordinary replay is a refusal, not a database error; the primary key
        // (client, jti) still refuses a replay racing the first use, also across hub instances.
        if (await db.ClientAssertionUses.AnyAsync(u => u.ClientId == client.ClientId && u.Jti == jti, cancellationToken))
        {
            return "assertion replayed (jti already used)";
        }
        db.ClientAssertionUses.Add(new ClientAssertionUse
        {
            ClientId = client.ClientId,
            Jti = jti,
            ExpiresAt = expiresAt + options.Value.ClockSkew,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return "assertion replayed (jti already used)";
        }
        return null;
    }

    private static readonly Lazy<string> DummyHash = new(() => ClientSecretHasher.Hash(ClientSecretHasher.GenerateSecret()));

    private static List<string> SplitScopes(string scopes) =>
        scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static Task WriteInvalidClientAsync(HttpContext context, string description)
    {
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"hlmhub\"";
        return WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid_client", description);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string error, string description) =>
        WriteJsonAsync(context, status, new Dictionary<string, object> { ["error"] = error, ["error_description"] = description });

    private static async Task WriteJsonAsync(HttpContext context, int status, Dictionary<string, object> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }

    private sealed record ClientCredentials(string? ClientId, string? Secret, string? Assertion, string? Error)
    {
        public static ClientCredentials Invalid(string error) => new(null, null, null, error);
    }

    private sealed record ClientAuthentication(OAuthClient? Client, string? Failure)
    {
        public static ClientAuthentication Failed(string failure) => new(null, failure);
    }
}
