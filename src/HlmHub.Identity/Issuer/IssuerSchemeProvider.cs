using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Server.AspNetCore;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// ASP.NET Core's authentication schemes, with OpenIddict's server left out of the request handlers that the
/// authentication middleware runs on every request. OpenIddict's server is an authentication request handler: left in,
/// it would run its request pipeline on every gRPC call to find out whether it is a token or discovery request, about
/// 10 µs of CPU per call (docs/benchmarks.md, transport). It answers at its own routes instead
/// (<see cref="IssuerEndpoints"/>). Any other request handler a host registers still runs as ASP.NET Core runs it.
/// </summary>
internal sealed class IssuerSchemeProvider(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options)
{
    // The filtered list for the list the base class last returned: schemes can be added at run time, and the base
    // class then returns a new list. One object, so that readers on other threads see a matching pair.
    private sealed record Filtered(IEnumerable<AuthenticationScheme> From, Task<IEnumerable<AuthenticationScheme>> Result);

    private Filtered? _filtered;

    public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        // ASP.NET Core answers with a completed task; anything else is filtered when it completes.
        var all = base.GetRequestHandlerSchemesAsync();
        if (!all.IsCompletedSuccessfully)
        {
            return FilterAsync(all);
        }

        var filtered = _filtered;
        if (filtered is null || !ReferenceEquals(filtered.From, all.Result))
        {
            filtered = new Filtered(all.Result, Task.FromResult(WithoutIssuer(all.Result)));
            _filtered = filtered;
        }

        return filtered.Result;
    }

    private static async Task<IEnumerable<AuthenticationScheme>> FilterAsync(Task<IEnumerable<AuthenticationScheme>> all) =>
        WithoutIssuer(await all);

    private static IEnumerable<AuthenticationScheme> WithoutIssuer(IEnumerable<AuthenticationScheme> schemes) =>
        [.. schemes.Where(scheme => scheme.Name != OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)];
}
