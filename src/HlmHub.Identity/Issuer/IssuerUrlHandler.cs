using HlmHub.Identity.Internal;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Makes OpenIddict write our issuer (<see cref="EmbeddedIssuerUrl"/>: <c>Auth:Issuer</c> or the server's own
/// address) in tokens and discovery, never the request's Host header, which the caller controls. It runs once
/// OpenIddict has matched the request to an endpoint, which it does with the request's own address.
/// </summary>
internal sealed class IssuerUrlHandler(EmbeddedIssuerUrl issuerUrl) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<IssuerUrlHandler>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType != OpenIddictServerEndpointType.Unknown)
        {
            context.BaseUri = issuerUrl.IssuerUri;
        }
        return ValueTask.CompletedTask;
    }
}
