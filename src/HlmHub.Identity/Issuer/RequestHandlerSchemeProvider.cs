using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// ASP.NET Core's authentication schemes, except that a request on a port the host serves gRPC alone on sees no
/// request handler. OpenIddict's server is an authentication request handler, so the authentication middleware would
/// run its whole request pipeline on every request to find out whether it is a token or discovery request: about
/// 10 µs of CPU on every gRPC call (measured with tools/bench/transport.sh). OpenIddict only answers on the HTTP/1.1
/// endpoint (<see cref="IssuerUrlHandler"/>), so gRPC requests skip it and are authenticated by the default scheme
/// alone (the bearer token). Where the host cannot tell its ports apart (no <see cref="IHttpEndpointAddress"/>, not
/// listening yet, one TLS port serving both), every request goes the full way.
/// </summary>
internal sealed class RequestHandlerSchemeProvider(
    IOptions<AuthenticationOptions> options, IHttpContextAccessor httpContextAccessor, IServiceProvider services)
    : AuthenticationSchemeProvider(options)
{
    // Shared: the gRPC path is every call, and an empty list is the same for all of them.
    private static readonly Task<IEnumerable<AuthenticationScheme>> NoRequestHandler =
        Task.FromResult(Enumerable.Empty<AuthenticationScheme>());

    private readonly IHttpEndpointAddress? _httpEndpoint = services.GetService<IHttpEndpointAddress>();

    public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync() =>
        _httpEndpoint is not null && httpContextAccessor.HttpContext is { } context && !_httpEndpoint.ServesPort(context.Connection.LocalPort)
            ? NoRequestHandler
            : base.GetRequestHandlerSchemesAsync();
}
