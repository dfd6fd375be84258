namespace HlmHub.Identity;

/// <summary>The paths of the embedded authorization server.</summary>
public static class IdentityEndpointPaths
{
    /// <summary>The token endpoint (Duende's path, so a swap is a configuration change).</summary>
    public const string Token = "/connect/token";

    /// <summary>OpenID Connect discovery.</summary>
    public const string OpenIdConfiguration = "/.well-known/openid-configuration";

    /// <summary>RFC 8414 authorization server metadata.</summary>
    public const string OAuthAuthorizationServer = "/.well-known/oauth-authorization-server";

    /// <summary>The JSON Web Key Set.</summary>
    public const string Jwks = "/.well-known/jwks";
}
