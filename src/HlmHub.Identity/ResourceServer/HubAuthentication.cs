using System.Security.Claims;
using HlmHub.Identity.Internal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The resource server on ASP.NET Core authentication. One JwtBearer scheme per issuer (the embedded one, the
/// configured <c>Auth:Authority</c>, each <c>Auth:TrustedIssuers:n</c>), and a default scheme in front
/// (<see cref="HubTokenHandler"/>) that answers a token validated before itself and hands any other to the scheme
/// its <c>iss</c> names (<see cref="TokenRouter"/>). JwtBearer does the checks: signature
/// with a published <c>kid</c> (an unknown one triggers a metadata refresh), the algorithm allow-list,
/// <c>typ</c>, issuer, audience per issuer, lifetime with skew. What it leaves to us: routing by issuer, the
/// per-issuer caller kinds, the cache of validated tokens, and reading the caller's binding claims.
/// </summary>
public static class HubAuthentication
{
    /// <summary>The default authentication scheme: every access token goes through it.</summary>
    public const string Scheme = "hlmhub";

    internal const string EmbeddedScheme = "hlmhub-embedded";
    internal const string AuthorityScheme = "hlmhub-authority";
    internal const string FailureKey = "HlmHub.Identity.AuthenticationFailure";

    /// <summary>How long a discovery or JWKS request to an external issuer may take.</summary>
    internal static readonly TimeSpan MetadataRequestTimeout = TimeSpan.FromSeconds(10);

    internal static string TrustedIssuerScheme(int index) => $"hlmhub-issuer-{index}";

    // On the request, because GrpcAuthorizationResultHandler writes the status from the HttpContext alone: ASP.NET Core
    // keeps a failed AuthenticateResult nowhere it could read it. Only these fixed reasons reach the status message.
    internal static void SetFailure(HttpContext context, string reason) => context.Items[FailureKey] = reason;

    /// <summary>Why the request's token was refused (never the token itself), or null when it was not.</summary>
    internal static string? FailureOf(HttpContext context) =>
        context.Items.TryGetValue(FailureKey, out var reason) ? reason as string : null;

    internal static void AddHlmHubResourceServer(this IServiceCollection services, AuthOptions configured)
    {
        var schemes = new IssuerSchemes(configured);
        services.AddSingleton(schemes);
        services.AddSingleton<ValidatedTokenCache>();
        services.AddSingleton<RevokedClientTokens>();
        if (schemes.EmbeddedEnabled)
        {
            services.AddHostedService<RevokedClientTokensRefresher>();
        }

        services.AddSingleton<TokenRouter>();
        services.AddSingleton<IssuerEvents>();
        services.AddSingleton<EmbeddedIssuerConfigurationManager>();

        // A handler per request, as ASP.NET Core creates every scheme's handler; registered so it is not built by reflection.
        services.AddTransient<HubTokenHandler>();
        var authentication = services.AddAuthentication(options =>
        {
            options.DefaultScheme = Scheme;
            options.AddScheme<HubTokenHandler>(Scheme, "HlmHub access tokens");
        });

        if (schemes.EmbeddedEnabled)
        {
            authentication.AddJwtBearer(EmbeddedScheme, _ => { });
            services.AddOptions<JwtBearerOptions>(EmbeddedScheme).Configure<TimeProvider, EmbeddedIssuerConfigurationManager>((options, timeProvider, manager) =>
            {
                Configure(options, configured, configured.Audience, issuer: null, timeProvider);
                // The embedded issuer's keys are read in-process; its issuer URL comes with them.
                options.ConfigurationManager = manager;
            });
        }

        foreach (var issuer in schemes.External)
        {
            authentication.AddJwtBearer(issuer.Scheme, _ => { });
            services.AddOptions<JwtBearerOptions>(issuer.Scheme).Configure<TimeProvider>((options, timeProvider) =>
            {
                Configure(options, configured, issuer.Audience, issuer.Issuer, timeProvider);
                options.Authority = issuer.Authority;
                options.MetadataAddress = issuer.Authority + IdentityEndpointPaths.OpenIdConfiguration;
                // Loopback authorities (a side-car issuer, tests) are allowed over http.
                options.RequireHttpsMetadata = configured.RequireHttpsMetadata
                    && !(Uri.TryCreate(issuer.Authority, UriKind.Absolute, out var uri) && uri.IsLoopback);
                options.BackchannelTimeout = MetadataRequestTimeout;
            });
        }
    }

    private static void Configure(JwtBearerOptions options, AuthOptions configured, string audience, string? issuer, TimeProvider timeProvider)
    {
        options.MapInboundClaims = false;
        options.TimeProvider = timeProvider;
        options.EventsType = typeof(IssuerEvents);
        options.IncludeErrorDetails = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            ValidAlgorithms = configured.EffectiveAllowedAlgorithms,
            ValidTypes = configured.EffectiveAcceptedTokenTypes,
            ClockSkew = configured.ClockSkew,
            LifetimeValidator = LifetimeValidation.Using(timeProvider, configured.ClockSkew),
            RequireAudience = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            // The kid must name a published key: trying every key would accept tokens from keys the issuer no
            // longer announces under that name.
            TryAllIssuerSigningKeys = false,
            ValidateIssuerSigningKey = false,
            NameClaimType = HubClaims.ClientId,
            RoleClaimType = "hlmhub_no_roles",
        };
    }
}

/// <summary>
/// The JwtBearer events of every issuer scheme: once a token is valid, read the caller (refusing a caller kind
/// the issuer may not assert) and remember the token; when it names a key the scheme does not know, validate it
/// once more against the refreshed keys (JwtBearer has just asked for the refresh, and would otherwise refuse
/// this call and accept the next); when it is invalid, keep the reason for the status message and the audit.
/// </summary>
internal sealed class IssuerEvents(IssuerSchemes schemes, ValidatedTokenCache cache, RevokedClientTokens revokedTokens, ILogger<IssuerEvents> logger) : JwtBearerEvents
{
    private const string MetadataUnavailable = "the token's issuer could not be reached to read its keys";

    private readonly JsonWebTokenHandler _handler = new();

    public override Task TokenValidated(TokenValidatedContext context)
    {
        if (context.SecurityToken is JsonWebToken token && context.Principal?.Identity is ClaimsIdentity validated
            && Accept(context.HttpContext, context.Scheme.Name, token, validated.Claims) is { } principal)
        {
            context.Principal = principal;
        }
        else
        {
            context.Fail(HubAuthentication.FailureOf(context.HttpContext) ?? "the token is invalid");
        }

        return Task.CompletedTask;
    }

    public override async Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        var exception = context.Exception;
        if (exception is SecurityTokenSignatureKeyNotFoundException
            && context.Options.ConfigurationManager is { } manager
            && ReadToken(context.HttpContext.Request) is { } encoded)
        {
            var configuration = await manager.GetConfigurationAsync(context.HttpContext.RequestAborted);
            var parameters = context.Options.TokenValidationParameters.Clone();
            parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], configuration.Issuer];
            parameters.IssuerSigningKeys = configuration.SigningKeys;
            var result = await _handler.ValidateTokenAsync(encoded, parameters);
            if (result.IsValid && result.SecurityToken is JsonWebToken token)
            {
                if (Accept(context.HttpContext, context.Scheme.Name, token, result.ClaimsIdentity.Claims) is { } principal)
                {
                    context.Principal = principal;
                    context.Success();
                }

                return;
            }

            exception = result.Exception ?? exception;
        }

        var reason = Describe(exception);
        if (reason == MetadataUnavailable)
        {
            var authority = schemes.External.FirstOrDefault(issuer => issuer.Scheme == context.Scheme.Name)?.Authority ?? context.Scheme.Name;
            IdentityLog.IssuerMetadataUnavailable(logger, authority, FailureCause.Describe(exception));
        }

        HubAuthentication.SetFailure(context.HttpContext, reason);
        // A result is required: without one, JwtBearer rethrows failures that are not validation failures
        // (an unreachable issuer), and the call would end with a 500 instead of UNAUTHENTICATED.
        context.Fail(reason);
    }

    /// <summary>The principal for a valid token, remembered in the cache; null (with the reason set) when its issuer may not assert its caller kind.</summary>
    private ClaimsPrincipal? Accept(HttpContext httpContext, string scheme, JsonWebToken token, IEnumerable<Claim> claims)
    {
        var caller = CallerIdentity.FromToken(token);
        var allowed = schemes.AllowedKinds(scheme);
        if (caller.Kind != CallerKind.None && (allowed & caller.Kind) != caller.Kind)
        {
            HubAuthentication.SetFailure(httpContext, $"the token's issuer may not assert {caller.Kind} callers");
            return null;
        }

        if (scheme == HubAuthentication.EmbeddedScheme && revokedTokens.RefusalFor(caller.ClientId, caller.SecretRotatedAt) is { } refusal)
        {
            HubAuthentication.SetFailure(httpContext, refusal);
            return null;
        }

        var principal = new ClaimsPrincipal(new CallerClaimsIdentity(claims, scheme, caller));
        cache.Add(token.EncodedToken, principal, scheme, token.Kid, caller.ExpiresAt);
        return principal;
    }

    private static string? ReadToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    // Fixed texts: the exceptions' own messages may quote parts of the token.
    private static string Describe(Exception exception) => exception switch
    {
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenNoExpirationException => "the token has no expiry",
        SecurityTokenInvalidAudienceException => "the token's audience is not accepted",
        SecurityTokenInvalidIssuerException => "the token's issuer is not trusted",
        SecurityTokenSignatureKeyNotFoundException => "the token's signing key (kid) is not known",
        SecurityTokenInvalidSignatureException => "the token's signature is invalid",
        SecurityTokenInvalidAlgorithmException => "the token's algorithm is not allowed",
        SecurityTokenInvalidTypeException => "the token's type (typ) is not accepted",
        InvalidOperationException or HttpRequestException or IOException => MetadataUnavailable,
        _ => "the token is invalid",
    };
}
