using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
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
        if (await handlers.GetHandlerAsync(context, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme) is not IAuthenticationRequestHandler issuer)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        bool handled;
        try
        {
            handled = await issuer.HandleRequestAsync();
        }
        catch (BadHttpRequestException exception) when (!context.Response.HasStarted)
        {
            // A body Kestrel refused while OpenIddict read it: a chunked one over MaxTokenRequestBytes (the limit
            // TokenRequestSizeHandler sets), or a malformed one. The caller's fault, answered as such: left to Kestrel it
            // was an empty answer and an error log with a stack trace per request, which anyone could repeat at will.
            var description = exception.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The token request is larger than {context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.EmbeddedIssuer.MaxTokenRequestBytes} bytes."
                : "The token request's body could not be read.";
            await TokenErrors.WriteAsync(context, exception.StatusCode, OpenIddictConstants.Errors.InvalidRequest, description, retryAfter: null);
            return;
        }

        if (!handled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
