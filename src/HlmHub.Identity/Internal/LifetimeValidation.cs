using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Lifetime checks on the injected clock (IdentityModel 8's own checks read the system clock, which tests
/// cannot move): <c>exp</c> required, <c>nbf</c> optional, both with the configured skew.
/// </summary>
internal static class LifetimeValidation
{
    public static LifetimeValidator Using(TimeProvider timeProvider, TimeSpan clockSkew) =>
        (notBefore, expires, _, _) =>
        {
            var now = timeProvider.GetUtcNow().UtcDateTime;
            if (expires is null)
            {
                throw new SecurityTokenNoExpirationException("The token has no expiry.");
            }
            if (notBefore is { } validFrom && validFrom > now + clockSkew)
            {
                throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = validFrom };
            }
            if (expires.Value < now - clockSkew)
            {
                throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
            }
            return true;
        };
}
