using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HlmHub.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// The embedded authorization server: OpenIddict 7.8's server with its EF Core stores in
/// <see cref="HlmHubDbContext"/>, configured for machine-to-machine use only, plus the handlers that hold what
/// OpenIddict leaves to us (signing-key rotation, replayed assertions, RFC 7523 assertions, the
/// failed-authentication limit, binding claims, disabled clients).
/// </summary>
internal static class IssuerRegistration
{
    /// <summary>
    /// The Data Protection application name: every hub instance must share it (with the key ring in the
    /// database) to decrypt the signing keys another instance encrypted. The default would be the content root
    /// path, which differs between hosts.
    /// </summary>
    public const string DataProtectionApplicationName = "HlmHub";

    /// <summary>
    /// Registers Data Protection (key ring in the database, encrypted with a certificate when one is configured),
    /// OpenIddict's core (the application store the client registry writes to) and, when the embedded issuer is
    /// enabled, its server and the scheme provider that keeps it to its own routes.
    /// </summary>
    public static void AddEmbeddedIssuer(IServiceCollection services, EmbeddedIssuerOptions options)
    {
        var dataProtection = services.AddDataProtection()
            .SetApplicationName(DataProtectionApplicationName)
            .PersistKeysToDbContext<HlmHubDbContext>();
        if (!string.IsNullOrWhiteSpace(options.KeyRingCertificatePath))
        {
            // Read at start-up: a missing file or wrong password stops the hub with one clear exception.
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(
                options.KeyRingCertificatePath,
                string.IsNullOrEmpty(options.KeyRingCertificatePassword) ? null : options.KeyRingCertificatePassword,
                X509KeyStorageFlags.EphemeralKeySet);
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("Auth:EmbeddedIssuer:KeyRingCertificatePath names a certificate without its private key.");
            }
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }

        var openIddict = services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<HlmHubDbContext>());
        if (!options.Enabled)
        {
            return;
        }
        openIddict.AddServer(server =>
            {
                server.AllowClientCredentialsFlow();
                server.SetTokenEndpointUris(IdentityEndpointPaths.Token.TrimStart('/'));
                server.SetConfigurationEndpointUris(
                    IdentityEndpointPaths.OpenIdConfiguration.TrimStart('/'),
                    IdentityEndpointPaths.OAuthAuthorizationServer.TrimStart('/'));
                server.SetJsonWebKeySetEndpointUris(IdentityEndpointPaths.Jwks.TrimStart('/'));

                // RFC 9068 JWT access tokens, signed, not encrypted: resource servers (ours and others) read them.
                server.DisableAccessTokenEncryption();
                // OpenIddict still insists on an encryption key (without one the first request fails with 500).
                // Nothing is ever encrypted with it: access tokens are not, and no other token is issued.
                server.AddEphemeralEncryptionKey();
                // OpenIddict refuses to start without a signing key. This placeholder never signs and is never
                // published: SigningCredentialsHandler and JsonWebKeySetHandler use the rotated, shared keys of
                // SigningKeyManager instead. It is asymmetric on purpose: OpenIddict prefers a symmetric key for
                // signing, which would turn tokens into HS256.
                server.AddSigningKey(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)));

                // Nothing reads issued tokens back (no introspection, revocation or refresh), so no row is written
                // per token and the tokens table stays empty; likewise for authorizations.
                server.DisableTokenStorage();
                server.DisableAuthorizationStorage();
                // Scopes are free-form per client (its scope permissions); there is no scope registry to check.
                server.DisableScopeValidation();

                server.UseAspNetCore()
                    // The hub listens in cleartext on loopback behind a TLS-terminating proxy (docs/identity.md).
                    .DisableTransportSecurityRequirement();

                server.AddEventHandler(IssuerUrlHandler.Descriptor);
                server.AddEventHandler(TokenRequestSizeHandler.Descriptor);
                server.AddEventHandler(FailedAuthenticationGate.Descriptor);
                server.AddEventHandler(TokenRequestRateGate.Descriptor);
                server.AddEventHandler(FailedAuthenticationRecorder.Descriptor);
                server.AddEventHandler(TokenRequestMetrics.Descriptor);
                server.AddEventHandler(Rfc7523AssertionParameters.Descriptor);
                server.AddEventHandler(Rfc7523AssertionType.Descriptor);
                server.AddEventHandler(ClientAssertionReplayGuard.Descriptor);
                server.AddEventHandler(DisabledClientCheck.Descriptor);
                server.AddEventHandler(AllowedScopesCheck.Descriptor);
                server.AddEventHandler(ClientCredentialsSignIn.Descriptor);
                server.AddEventHandler(SigningCredentialsHandler.Descriptor);
                server.AddEventHandler(JsonWebKeySetHandler.Descriptor);
            });
        // The server is a request handler: it answers at its routes (IssuerEndpoints), not on every request
        // (IssuerSchemeProvider). Replace, not TryAdd: AddAuthentication (the resource server's, and UseAspNetCore's)
        // has registered ASP.NET Core's own.
        services.Replace(ServiceDescriptor.Singleton<IAuthenticationSchemeProvider, IssuerSchemeProvider>());
    }
}
