using HlmHub.Identity.Internal;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Signs every token OpenIddict generates with the current key of <see cref="SigningKeyManager"/>, read per
/// request. OpenIddict builds its options once at start-up; the keys rotate while the hub runs (announced, then
/// signing, then retired) and are shared with the other instances through the database, so the key is resolved
/// here rather than fixed in the options. The key OpenIddict was given at start-up is a placeholder that never
/// signs and is never published (see <see cref="IssuerRegistration"/>).
/// </summary>
internal sealed class SigningCredentialsHandler(SigningKeyManager keys, Microsoft.Extensions.Logging.ILogger<SigningCredentialsHandler> logger)
    : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<SigningCredentialsHandler>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(GenerateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var set = await keys.GetKeySetAsync(context.CancellationToken);
        context.SigningCredentials = set.Signing.Credentials;
        if (context.TokenType == OpenIddictConstants.TokenTypeIdentifiers.AccessToken && context.Principal is { } principal)
        {
            IdentityLog.TokenIssued(logger, principal.GetClaim(OpenIddictConstants.Claims.ClientId) ?? "", string.Join(' ', principal.GetScopes()), set.Signing.KeyId);
        }
    }
}

/// <summary>Publishes the keys of <see cref="SigningKeyManager"/> (announced, signing, retiring) as the JWKS, and only them.</summary>
internal sealed class JsonWebKeySetHandler(SigningKeyManager keys) : IOpenIddictServerHandler<HandleJsonWebKeySetRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleJsonWebKeySetRequestContext>()
            .UseSingletonHandler<JsonWebKeySetHandler>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningKeys.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleJsonWebKeySetRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var set = await keys.GetKeySetAsync(context.CancellationToken);
        // The start-up placeholder OpenIddict added must not be published: nothing it signs would be valid.
        context.Keys.Clear();
        foreach (var key in set.Published)
        {
            context.Keys.Add(new JsonWebKey(key.PublicJwk));
        }
    }
}
