using HlmHub.Identity.Internal;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The embedded issuer's metadata as JwtBearer expects it from a configuration manager (issuer and signing
/// keys), read in-process from the issuer's key store instead of over HTTP from the hub itself. JwtBearer asks
/// for a refresh when a token names an unknown key; the next read then goes to the database, so a key another
/// instance created is found, by that call and by the calls that ask while it reloads. Reloads are at most one per
/// <see cref="MinimumReloadInterval"/>, so tokens with made-up key ids cannot turn into a database query each.
/// </summary>
internal sealed class EmbeddedIssuerConfigurationManager(SigningKeyManager keys, EmbeddedIssuerUrl issuerUrl, TimeProvider timeProvider)
    : IConfigurationManager<OpenIdConnectConfiguration>
{
    /// <summary>Shortest time between two forced reloads of the signing keys.</summary>
    internal static readonly TimeSpan MinimumReloadInterval = TimeSpan.FromSeconds(30);

    private volatile Snapshot? _snapshot;
    private int _reloadRequested;
    private long _nextReloadAllowedTicks;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        // Only one call reloads per request for a refresh; the others asking meanwhile (tokens of the same new key,
        // arriving together) wait for that reload rather than validate against the keys it replaces.
        var set = Interlocked.Exchange(ref _reloadRequested, 0) == 1
            ? await keys.ReloadAsync(cancel)
            : await keys.GetKeySetForValidationAsync(cancel);
        var snapshot = _snapshot;
        if (snapshot is not null && ReferenceEquals(snapshot.Keys, set))
        {
            return snapshot.Configuration;
        }

        var configuration = new OpenIdConnectConfiguration { Issuer = issuerUrl.Issuer };
        foreach (var key in set.ValidationKeys)
        {
            configuration.SigningKeys.Add(key);
        }

        _snapshot = new Snapshot(set, configuration);
        return configuration;
    }

    public void RequestRefresh()
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        var allowedAt = Interlocked.Read(ref _nextReloadAllowedTicks);
        if (now >= allowedAt && Interlocked.CompareExchange(ref _nextReloadAllowedTicks, now + MinimumReloadInterval.Ticks, allowedAt) == allowedAt)
        {
            Volatile.Write(ref _reloadRequested, 1);
        }
    }

    private sealed record Snapshot(SigningKeySet Keys, OpenIdConnectConfiguration Configuration);
}
