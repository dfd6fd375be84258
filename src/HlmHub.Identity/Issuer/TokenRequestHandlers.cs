using System.Security.Claims;
using System.Text.Json;
using HlmHub.Identity.Internal;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Refuses a disabled client (<see cref="IClientRegistry.DisableAsync"/>) as a failed client authentication.
/// OpenIddict has no notion of a disabled application; the registry also withdraws its token endpoint permission.
/// It runs once the secret or assertion has been checked, so only a holder of the client's credentials learns
/// that the client is disabled.
/// </summary>
internal sealed class DisabledClientCheck(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .UseScopedHandler<DisabledClientCheck>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType != OpenIddictServerEndpointType.Token || string.IsNullOrEmpty(context.ClientId))
        {
            return;
        }
        if (await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
        {
            return;
        }
        var properties = await applications.GetPropertiesAsync(application, context.CancellationToken);
        if (properties.ContainsKey(ClientApplications.DisabledAtProperty))
        {
            context.Reject(Errors.InvalidClient, "The client is disabled.");
        }
    }
}

/// <summary>
/// Refuses a scope the client may not have with <c>invalid_scope</c>, naming it, never with a silently reduced
/// token. OpenIddict's own check (scope permissions) answers only a generic <c>invalid_request</c>; it stays as a
/// second line.
/// </summary>
internal sealed class AllowedScopesCheck(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseScopedHandler<AllowedScopesCheck>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateScopePermissions.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(context.ClientId)
            || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
        {
            return;
        }
        var allowed = ClientApplications.Scopes(await applications.GetPermissionsAsync(application, context.CancellationToken));
        var refused = context.Request.GetScopes().Where(scope => !allowed.Contains(scope, StringComparer.Ordinal)).ToList();
        if (refused.Count > 0)
        {
            context.Reject(Errors.InvalidScope, $"Scope not allowed for this client: {string.Join(' ', refused)}.");
        }
    }
}

/// <summary>
/// Answers an authenticated client_credentials request: the access token carries the client's binding from its
/// registration (<c>hlmhub_kind</c> with <c>hlmhub_partner</c>, <c>hlmhub_landlord</c> or <c>hlmhub_club</c>; and
/// <c>hlmhub_secret_rotated_at</c> once its secret has been rotated),
/// <c>sub</c> = <c>client_id</c>, the granted scopes (all allowed ones when none are asked for), <c>aud</c> =
/// <c>Auth:Audience</c> and <c>Auth:TokenLifetime</c>, as the hand-written issuer did, so resource servers see
/// the same tokens.
/// </summary>
internal sealed class ClientCredentialsSignIn(IOpenIddictApplicationManager applications, IOptions<AuthOptions> options)
    : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
            .UseScopedHandler<ClientCredentialsSignIn>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.IsClientCredentialsGrantType() || context.Request.ClientId is not { Length: > 0 } clientId)
        {
            return;
        }
        var application = await applications.FindByClientIdAsync(clientId, context.CancellationToken)
            ?? throw new InvalidOperationException("OpenIddict authenticated a client that does not exist.");
        var properties = await applications.GetPropertiesAsync(application, context.CancellationToken);
        var allowed = ClientApplications.Scopes(await applications.GetPermissionsAsync(application, context.CancellationToken));
        var requested = context.Request.GetScopes();
        var granted = requested.IsDefaultOrEmpty ? allowed : requested.Distinct(StringComparer.Ordinal).ToList();

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, clientId);
        var kind = ClientApplications.ParseKind(Read(properties, ClientApplications.KindProperty));
        if (kind is { } bound)
        {
            identity.SetClaim(HubClaims.Kind, ClientApplications.KindName(bound));
            context.Transaction.Properties[TokenRequestMetrics.ClientKindProperty] = bound;
            // Only the id that goes with the kind, whatever else the properties hold.
            var (claim, property) = bound switch
            {
                ClientKind.Partner => (HubClaims.Partner, ClientApplications.PartnerProperty),
                ClientKind.Landlord => (HubClaims.Landlord, ClientApplications.LandlordProperty),
                _ => (HubClaims.Club, ClientApplications.ClubProperty),
            };
            if (Read(properties, property) is { Length: > 0 } id)
            {
                identity.SetClaim(claim, id);
            }
        }
        // The client's last secret rotation, read from the same application entity whose secret hash OpenIddict
        // has just checked (its entity cache is per request): a token got with a secret carries that secret's
        // rotation, so once the secret is rotated again every instance refuses it, without comparing clocks.
        if (Read(properties, ClientApplications.SecretRotatedAtProperty) is { Length: > 0 } rotatedAt)
        {
            identity.SetClaim(HubClaims.SecretRotatedAt, rotatedAt);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(granted);
        // OpenIddict writes the access token's aud from the principal's resources.
        principal.SetResources(options.Value.Audience);
        principal.SetAccessTokenLifetime(options.Value.TokenLifetime);
        principal.SetDestinations(static _ => [Destinations.AccessToken]);
        context.SignIn(principal);
    }

    private static string? Read(IReadOnlyDictionary<string, JsonElement> properties, string name) =>
        properties.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
