using HlmHub.Identity.Internal;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Accepts the RFC 7523 form of a private_key_jwt client assertion beside the form OpenIddict requires.
/// OpenIddict 7.8 follows draft rfc7523bis: <c>typ: client-authentication+jwt</c> and <c>aud</c> = the issuer.
/// Most client libraries send RFC 7523's: <c>typ: JWT</c> (or none) and <c>aud</c> = the token endpoint URL, and
/// OpenIddict has no setting for it. Before OpenIddict validates an assertion, this adds <c>JWT</c> to the
/// accepted types and the token endpoint URL to the accepted audiences; the signature is still checked against
/// the client's registered key, so nothing but the client's own key can make either form.
/// </summary>
internal sealed class Rfc7523AssertionParameters(EmbeddedIssuerUrl issuerUrl) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<Rfc7523AssertionParameters>()
            .SetOrder(OpenIddictServerHandlers.Protection.ResolveTokenValidationParameters.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!ClientAssertionValidation.Applies(context) || context.TokenValidationParameters is not { } parameters)
        {
            return ValueTask.CompletedTask;
        }
        // OpenIddict's type validator reads a missing typ as "JWT".
        parameters.ValidTypes = [.. parameters.ValidTypes ?? [], JsonWebTokenTypes.Jwt, "application/" + JsonWebTokenTypes.Jwt];
        context.ValidAudiences.Add(issuerUrl.TokenEndpoint);
        return ValueTask.CompletedTask;
    }

    private static class JsonWebTokenTypes
    {
        public const string Jwt = "JWT";
    }
}

/// <summary>
/// After OpenIddict has checked an RFC 7523 assertion's signature, relabels it: OpenIddict reads <c>typ: JWT</c> as
/// an identity token, and would otherwise refuse it as the wrong kind of token.
/// </summary>
internal sealed class Rfc7523AssertionType : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<Rfc7523AssertionType>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ClientAssertionValidation.Applies(context) && context.Principal is { } principal
            && principal.GetTokenType() == TokenTypeIdentifiers.IdentityToken)
        {
            context.Principal = principal.SetTokenType(TokenTypeIdentifiers.Private.ClientAssertion);
        }
        return ValueTask.CompletedTask;
    }
}

internal static class ClientAssertionValidation
{
    /// <summary>Whether OpenIddict is validating a client assertion (and nothing else) in this context.</summary>
    public static bool Applies(ValidateTokenContext context) =>
        context.ValidTokenTypes.Count == 1 && context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion);
}

/// <summary>
/// What OpenIddict does not check on a client assertion whose signature it has verified: that it carries a
/// <c>jti</c>, lives no longer than <see cref="EmbeddedIssuerOptions.ClientAssertionMaxLifetime"/>, and was never
/// used before. Used assertions are kept (<see cref="ClientAssertionUse"/>) until they expire; the primary key
/// (client, jti) refuses a replay even when it races the first use on another hub instance.
/// </summary>
internal sealed class ClientAssertionReplayGuard(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<AuthOptions> options,
    TimeProvider timeProvider) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseSingletonHandler<ClientAssertionReplayGuard>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientAssertionIssuer.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ClientAssertionPrincipal is not { } assertion)
        {
            return;
        }
        var clientId = assertion.GetClaim(Claims.Issuer) ?? "";
        var jti = assertion.GetClaim(Claims.JwtId);
        if (string.IsNullOrEmpty(jti) || jti.Length > ClientAssertionUse.JtiMaxLength || clientId.Length > ClientAssertionUse.ClientIdMaxLength)
        {
            context.Reject(Errors.InvalidClient, "The client assertion has no usable jti.");
            return;
        }
        var now = timeProvider.GetUtcNow();
        // OpenIddict checks an assertion's lifetime with a wider skew than Auth:ClockSkew (one expired 90 s before was
        // accepted), while its jti is kept only until exp + Auth:ClockSkew: an assertion expired between the two was accepted,
        // and once its jti was pruned, accepted again and again. Refused here on the hub's own clock and skew, so an
        // assertion is accepted only while its jti is kept (OpenIddict itself refuses one without exp).
        if (assertion.GetExpirationDate() is not { } expiresAt || expiresAt + options.Value.ClockSkew < now)
        {
            context.Reject(Errors.InvalidClient, "The client assertion has expired (or has no exp).");
            return;
        }
        var issuedAt = assertion.GetCreationDate() ?? now;
        if (expiresAt - issuedAt > options.Value.EmbeddedIssuer.ClientAssertionMaxLifetime)
        {
            context.Reject(Errors.InvalidClient, "The client assertion lives too long (exp - iat).");
            return;
        }
        // Bounded by the clock too: otherwise an assertion minted a year ahead, short by exp - iat, would be usable
        // (once) at any time in that year.
        if (issuedAt > now + options.Value.ClockSkew || expiresAt > now + options.Value.EmbeddedIssuer.ClientAssertionMaxLifetime + options.Value.ClockSkew)
        {
            context.Reject(Errors.InvalidClient, "The client assertion is issued in the future (iat or exp ahead of the hub's clock).");
            return;
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        await db.ClientAssertionUses.Where(use => use.ExpiresAt < now).ExecuteDeleteAsync(context.CancellationToken);
        // Checked first so that an ordinary replay is a refusal, not a database error.
        if (await db.ClientAssertionUses.AnyAsync(use => use.ClientId == clientId && use.Jti == jti, context.CancellationToken))
        {
            context.Reject(Errors.InvalidClient, "The client assertion was already used (replayed jti).");
            return;
        }
        db.ClientAssertionUses.Add(new ClientAssertionUse { ClientId = clientId, Jti = jti, ExpiresAt = expiresAt + options.Value.ClockSkew });
        try
        {
            await db.SaveChangesAsync(context.CancellationToken);
        }
        catch (DbUpdateException)
        {
            context.Reject(Errors.InvalidClient, "The client assertion was already used (replayed jti).");
        }
    }
}
