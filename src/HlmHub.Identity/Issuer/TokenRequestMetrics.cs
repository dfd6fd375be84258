using HlmHub.Observability;
using HlmHub.Storage.Identity;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Counts every answer of the token endpoint on <see cref="HubMetrics"/> (<c>hlmhub.token.requests</c>): issued, or
/// refused with its OAuth error, by grant type and, once the client authenticated, its kind. It runs after
/// <see cref="FailedAuthenticationRecorder"/>, so a refused assertion is counted as the <c>invalid_client</c> the
/// client was answered. The answers the hub gives in front of OpenIddict (413, 429) are counted by <see cref="TokenErrors"/>.
/// </summary>
internal sealed class TokenRequestMetrics(HubMetrics metrics) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    /// <summary>The transaction property where <see cref="ClientCredentialsSignIn"/> leaves the signed-in client's kind.</summary>
    public const string ClientKindProperty = "hlmhub:client_kind";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<TokenRequestMetrics>()
            .SetOrder(FailedAuthenticationRecorder.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var kind = context.Transaction.Properties.TryGetValue(ClientKindProperty, out var value) && value is ClientKind bound ? bound : (ClientKind?)null;
        metrics.RecordTokenRequest(context.Request?.GrantType, kind, string.IsNullOrEmpty(context.Response.Error) ? null : context.Response.Error);
        return ValueTask.CompletedTask;
    }
}
