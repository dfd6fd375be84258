using HlmHub.Identity.ResourceServer;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// The <c>Auth</c> section's rules, checked at start-up: each failure is one sentence naming the setting, its rule
/// and the value found, which the host prints as the one line explaining why it refused to start.
/// </summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var embedded = options.EmbeddedIssuer;
        Require(failures, !string.IsNullOrWhiteSpace(options.Audience), "Audience", "must not be empty");
        Require(failures, options.UsesEmbeddedAuthority || IsAbsoluteHttpUrl(options.Authority), "Authority", $"must be empty or an absolute http(s) URL (it is '{options.Authority}')");
        Require(failures, string.IsNullOrEmpty(options.Issuer) || IsAbsoluteHttpUrl(options.Issuer), "Issuer", $"must be empty or an absolute http(s) URL (it is '{options.Issuer}')");
        Positive(failures, "TokenLifetime", options.TokenLifetime);
        NotNegative(failures, "ClockSkew", options.ClockSkew);
        NotNegative(failures, "ValidatedTokenCacheDuration", options.ValidatedTokenCacheDuration);
        Require(failures, options.ValidatedTokenCacheMaxEntries >= 0, "ValidatedTokenCacheMaxEntries", $"must be 0 or more (it is {options.ValidatedTokenCacheMaxEntries})");
        for (var index = 0; index < (options.TrustedIssuers?.Length ?? 0); index++)
        {
            var issuer = options.TrustedIssuers![index];
            Require(failures, IsAbsoluteHttpUrl(issuer.Authority), $"TrustedIssuers:{index}:Authority", $"must be an absolute http(s) URL (it is '{issuer.Authority}')");
        }
        RequireEachIssuerOnce(failures, options);

        Require(failures, embedded.SigningAlgorithm is "ES256" or "ES384" or "ES512", "EmbeddedIssuer:SigningAlgorithm", $"must be ES256, ES384 or ES512 (it is '{embedded.SigningAlgorithm}')");
        Positive(failures, "EmbeddedIssuer:KeyRotationInterval", embedded.KeyRotationInterval);
        NotNegative(failures, "EmbeddedIssuer:KeyAnnouncementLead", embedded.KeyAnnouncementLead);
        Require(failures, embedded.KeyAnnouncementLead < embedded.KeyRotationInterval, "EmbeddedIssuer:KeyAnnouncementLead",
            $"must be shorter than Auth:EmbeddedIssuer:KeyRotationInterval ({embedded.KeyAnnouncementLead} is not shorter than {embedded.KeyRotationInterval})");
        Positive(failures, "EmbeddedIssuer:KeyCacheRefreshInterval", embedded.KeyCacheRefreshInterval);
        Positive(failures, "EmbeddedIssuer:DisabledClientsRefreshInterval", embedded.DisabledClientsRefreshInterval);
        Require(failures, embedded.DisabledClientsRefreshInterval <= TimeSpan.FromDays(1), "EmbeddedIssuer:DisabledClientsRefreshInterval",
            $"must be at most 1 day (it is {embedded.DisabledClientsRefreshInterval})");
        Positive(failures, "EmbeddedIssuer:ClientAssertionMaxLifetime", embedded.ClientAssertionMaxLifetime);
        Positive(failures, "EmbeddedIssuer:FailedAuthenticationWindow", embedded.FailedAuthenticationWindow);
        Require(failures, embedded.MaxFailedAuthenticationsPerClient > 0, "EmbeddedIssuer:MaxFailedAuthenticationsPerClient", $"must be greater than 0 (it is {embedded.MaxFailedAuthenticationsPerClient})");
        Require(failures, embedded.MaxFailedAuthenticationsPerAddress > 0, "EmbeddedIssuer:MaxFailedAuthenticationsPerAddress", $"must be greater than 0 (it is {embedded.MaxFailedAuthenticationsPerAddress})");
        Require(failures, embedded.MaxTrackedFailureKeys >= 100, "EmbeddedIssuer:MaxTrackedFailureKeys", $"must be 100 or more (it is {embedded.MaxTrackedFailureKeys})");
        Require(failures, embedded.MaxTokenRequestsPerClientPerMinute > 0, "EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute", $"must be greater than 0 (it is {embedded.MaxTokenRequestsPerClientPerMinute})");
        Require(failures, embedded.MaxTokenRequestBytes > 0, "EmbeddedIssuer:MaxTokenRequestBytes", $"must be greater than 0 (it is {embedded.MaxTokenRequestBytes})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Tokens are routed to an external issuer by their exact <c>iss</c> (<c>ResourceServer/TokenRouter.cs</c>), so two
    /// settings naming one issuer would give it two schemes, and the router could be built for no request: refused
    /// here, naming the setting that repeats it. Issuers are compared as the router keys them (<see cref="IssuerSchemes.IssuerOf(AuthOptions)"/>).
    /// </summary>
    private static void RequireEachIssuerOnce(List<string> failures, AuthOptions options)
    {
        var settingByIssuer = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!options.UsesEmbeddedAuthority)
        {
            settingByIssuer.Add(IssuerSchemes.IssuerOf(options), $"{AuthOptions.SectionName}:Authority");
        }
        for (var index = 0; index < (options.TrustedIssuers?.Length ?? 0); index++)
        {
            var trusted = options.TrustedIssuers![index];
            // A blank authority is refused above, and IssuerSchemes skips it: it routes nothing.
            if (string.IsNullOrWhiteSpace(trusted.Authority))
            {
                continue;
            }
            var issuer = IssuerSchemes.IssuerOf(trusted);
            var setting = $"TrustedIssuers:{index}:{(string.IsNullOrWhiteSpace(trusted.Issuer) ? "Authority" : "Issuer")}";
            if (!settingByIssuer.TryAdd(issuer, $"{AuthOptions.SectionName}:{setting}"))
            {
                Require(failures, false, setting, $"repeats the issuer '{issuer}' of {settingByIssuer[issuer]}: each issuer may be trusted once, remove one of them");
            }
        }
    }

    private static void Positive(List<string> failures, string setting, TimeSpan value) =>
        Require(failures, value > TimeSpan.Zero, setting, $"must be a duration greater than zero, e.g. 00:15:00 (it is {value})");

    private static void NotNegative(List<string> failures, string setting, TimeSpan value) =>
        Require(failures, value >= TimeSpan.Zero, setting, $"must be a duration of zero or more (it is {value})");

    private static void Require(List<string> failures, bool holds, string setting, string rule)
    {
        if (!holds)
        {
            failures.Add($"{AuthOptions.SectionName}:{setting} {rule}");
        }
    }

    private static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
