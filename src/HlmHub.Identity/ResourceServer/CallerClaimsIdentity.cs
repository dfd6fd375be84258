using System.Security.Claims;
using HlmHub.Identity.Internal;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The claims of a validated access token together with the caller read from them once, at validation:
/// authorization and handlers use <see cref="Caller"/> instead of searching the claims on every call.
/// </summary>
internal sealed class CallerClaimsIdentity(IEnumerable<Claim> claims, string authenticationType, CallerIdentity caller)
    : ClaimsIdentity(claims, authenticationType, HubClaims.ClientId, roleType: null)
{
    public CallerIdentity Caller { get; } = caller;

    /// <summary>The caller of an authenticated principal, or null when the request is anonymous.</summary>
    public static CallerIdentity? Find(ClaimsPrincipal? principal) =>
        principal?.Identity is CallerClaimsIdentity { IsAuthenticated: true } identity ? identity.Caller : null;
}
