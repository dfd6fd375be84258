using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The authentication schemes, with one difference from ASP.NET Core's provider: on the gRPC endpoint, no scheme is a
/// request handler. OpenIddict's server is an authentication request handler, so the authentication middleware would
/// run its whole request pipeline on every request to find out whether it is a token or discovery request: about
/// 10 µs of CPU on every gRPC call (measured with tools/bench/transport.sh). It only ever answers on the HTTP/1.1
/// endpoint, so gRPC requests skip it and are authenticated by the default scheme alone (the bearer token), exactly
/// as before. On a single TLS port serving both, every request goes the full way.
/// </summary>
internal sealed class HubAuthenticationSchemeProvider(
    IOptions<AuthenticationOptions> options, IHttpContextAccessor httpContextAccessor, HubEndpoints endpoints)
    : AuthenticationSchemeProvider(options)
{
    public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        var context = httpContextAccessor.HttpContext;
        return context is not null && !endpoints.Serves(HubEndpointKind.Http, context.Connection.LocalPort)
            ? Task.FromResult(Enumerable.Empty<AuthenticationScheme>())
            : base.GetRequestHandlerSchemesAsync();
    }
}
