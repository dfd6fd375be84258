using HlmHub.Identity.Internal;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// Makes OpenIddict write our issuer (<see cref="EmbeddedIssuerUrl"/>: <c>Auth:Issuer</c> or the server's own
/// address) in tokens and discovery, never the request's Host header, which the caller controls. It runs once
/// OpenIddict has matched the request to an endpoint, which it does with the request's own address. When the host
/// names its HTTP/1.1 endpoint (<see cref="IHttpEndpointAddress"/>), OpenIddict answers there only: a request on
/// another port gets 404, as for any route the host serves on the other endpoint (the hub already refuses those
/// requests before they reach OpenIddict; a host without that rule gets the same answer).
/// </summary>
internal sealed class IssuerUrlHandler(EmbeddedIssuerUrl issuerUrl, IServiceProvider services) : IOpenIddictServerHandler<ProcessRequestContext>
{
    private readonly IHttpEndpointAddress? _httpEndpoint = services.GetService<IHttpEndpointAddress>();

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<IssuerUrlHandler>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType == OpenIddictServerEndpointType.Unknown)
        {
            return ValueTask.CompletedTask;
        }
        if (_httpEndpoint?.Address is { } address && Uri.TryCreate(address, UriKind.Absolute, out var http)
            && context.Transaction.GetHttpRequest() is { } request && request.HttpContext.Connection.LocalPort != http.Port)
        {
            request.HttpContext.Response.StatusCode = StatusCodes.Status404NotFound;
            context.HandleRequest();
            return ValueTask.CompletedTask;
        }
        context.BaseUri = issuerUrl.IssuerUri;
        return ValueTask.CompletedTask;
    }
}
