using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Server.AspNetCore;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// The embedded issuer's endpoints as routes: the token endpoint, both discovery documents and the JWKS, each answered
/// by OpenIddict's server. As routes, they are matched only on their own paths (a gRPC call never reaches OpenIddict,
/// see <see cref="IssuerSchemeProvider"/>), and a host serves them where it serves its other HTTP routes.
/// </summary>
internal static class IssuerEndpoints
{
    private static readonly string[] Paths =
    [
        IdentityEndpointPaths.Token,
        IdentityEndpointPaths.OpenIdConfiguration,
        IdentityEndpointPaths.OAuthAuthorizationServer,
        IdentityEndpointPaths.Jwks,
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        foreach (var path in Paths)
        {
            // Every method: OpenIddict itself answers one it does not accept (a GET on the token endpoint) with its error.
            endpoints.Map(path, AnswerAsync).WithDisplayName("OpenIddict " + path);
        }
    }

    /// <summary>What ASP.NET Core's authentication middleware does with a request handler, for this route alone.</summary>
    private static async Task AnswerAsync(HttpContext context)
    {
        var handlers = context.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
        if (await handlers.GetHandlerAsync(context, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme) is not IAuthenticationRequestHandler issuer
            || !await issuer.HandleRequestAsync())
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
