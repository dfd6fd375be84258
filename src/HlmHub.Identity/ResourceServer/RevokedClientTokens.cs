using System.Collections.Concurrent;
using System.Collections.Frozen;
using HlmHub.Identity.Authorization;
using HlmHub.Identity.Internal;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The embedded issuer's clients whose tokens are no longer accepted, as the resource server sees them: every token of
/// a disabled client, and the tokens a client got with a secret it has since rotated. A token stays valid until it
/// expires, so without this a disabled client, or whoever holds a token got with a leaked secret, would keep calling,
/// and the streams it opened would keep serving, for up to <c>Auth:TokenLifetime</c>. With it, such a token is
/// refused from the next call and its open streams end at their next read or write: at once on the instance that
/// disabled the client or rotated its secret, within <see cref="EmbeddedIssuerOptions.DisabledClientsRefreshInterval"/>
/// on the others (<see cref="RevokedClientTokensRefresher"/>). Only tokens of the embedded issuer are concerned: an
/// external issuer's clients are its own.
/// </summary>
/// <remarks>
/// A token says under which rotation of its client's secret it was issued (<see cref="HubClaims.SecretRotatedAt"/>,
/// the stored instant itself, absent before the first rotation). A token whose rotation is older than the client's
/// last one was got with an earlier secret: refused. Comparing the stored instants, not a token's <c>iat</c> with the
/// rotation's time, leaves no gap between the two instances' clocks, and none within the rotation's second.
/// </remarks>
internal sealed class RevokedClientTokens
{
    /// <summary>Why a disabled client's token is refused (UNAUTHENTICATED).</summary>
    public const string ClientDisabled = "the token's client is disabled";

    /// <summary>Why a token got with a secret rotated since is refused (UNAUTHENTICATED).</summary>
    public const string SecretRotated = "the token was issued before its client's secret was rotated: get a new token with the new secret";

    private readonly object _gate = new();
    private readonly ConcurrentDictionary<TokenExpiry, (string ClientId, DateTimeOffset SecretRotatedAt)> _openStreams = new();

    /// <summary>
    /// Per client, its last secret rotation (<see cref="DateTimeOffset.MaxValue"/> once disabled): a token issued under
    /// an earlier one is refused.
    /// </summary>
    private volatile FrozenDictionary<string, DateTimeOffset> _lastRotation = FrozenDictionary<string, DateTimeOffset>.Empty;

    /// <summary>
    /// Why a token of <paramref name="clientId"/> issued under the secret rotation <paramref name="secretRotatedAt"/>
    /// (<see cref="DateTimeOffset.MinValue"/>: none) is refused, or null when it is not. Read on every call: no lock,
    /// and one field read while no client is disabled or rotated.
    /// </summary>
    public string? RefusalFor(string clientId, DateTimeOffset secretRotatedAt)
    {
        var revoked = _lastRotation;
        if (revoked.Count == 0 || !revoked.TryGetValue(clientId, out var last) || secretRotatedAt >= last)
        {
            return null;
        }

        return last == DateTimeOffset.MaxValue ? ClientDisabled : SecretRotated;
    }

    /// <summary>This instance has just disabled <paramref name="clientId"/>: none of its tokens is accepted any more.</summary>
    public void Disable(string clientId) => Merge([new(clientId, DateTimeOffset.MaxValue)]);

    /// <summary>This instance has just rotated the secret of <paramref name="clientId"/>, stamping it <paramref name="rotatedAt"/>.</summary>
    public void SecretRotatedAt(string clientId, DateTimeOffset rotatedAt) => Merge([new(clientId, rotatedAt)]);

    /// <summary>
    /// Adds rotations and disablings (those the database holds: every instance's) and ends the open streams they
    /// concern. Only ever moves a client's instant later: a disabled client is never enabled again, and a read that
    /// started before this instance disabled a client or rotated its secret must not undo it.
    /// </summary>
    public void Merge(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> rotations)
    {
        List<string> moved = [];
        lock (_gate)
        {
            var current = _lastRotation;
            var next = new Dictionary<string, DateTimeOffset>(current, StringComparer.Ordinal);
            foreach (var (clientId, rotatedAt) in rotations)
            {
                if (!next.TryGetValue(clientId, out var known) || rotatedAt > known)
                {
                    next[clientId] = rotatedAt;
                    moved.Add(clientId);
                }
            }

            if (moved.Count == 0)
            {
                return;
            }

            _lastRotation = next.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var clientId in moved)
        {
            EndRevokedStreamsOf(clientId);
        }
    }

    /// <summary>
    /// Follows a streaming call of <paramref name="clientId"/>, authorized by a token issued under the secret rotation
    /// <paramref name="secretRotatedAt"/>, until the returned registration is disposed: if the token is revoked
    /// meanwhile, <paramref name="expiry"/> ends the call.
    /// </summary>
    public IDisposable Track(string clientId, DateTimeOffset secretRotatedAt, TokenExpiry expiry)
    {
        _openStreams[expiry] = (clientId, secretRotatedAt);
        // Revoked between the call's authentication and now: the loop in EndRevokedStreamsOf may have run without it.
        if (RefusalFor(clientId, secretRotatedAt) is { } reason)
        {
            expiry.EndBecauseRevoked(reason);
        }

        return new Registration(this, expiry);
    }

    private void EndRevokedStreamsOf(string clientId)
    {
        foreach (var (expiry, (owner, secretRotatedAt)) in _openStreams)
        {
            if (string.Equals(owner, clientId, StringComparison.Ordinal) && RefusalFor(owner, secretRotatedAt) is { } reason)
            {
                expiry.EndBecauseRevoked(reason);
            }
        }
    }

    private sealed class Registration(RevokedClientTokens owner, TokenExpiry expiry) : IDisposable
    {
        public void Dispose() => owner._openStreams.TryRemove(expiry, out _);
    }
}

/// <summary>
/// Reads the disabled clients and the rotated secrets from the database once the hub has started (its migrations
/// applied), then every <see cref="EmbeddedIssuerOptions.DisabledClientsRefreshInterval"/>. A failed read keeps what
/// is known and is tried again at the next tick.
/// </summary>
internal sealed class RevokedClientTokensRefresher(
    RevokedClientTokens revokedTokens,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<AuthOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider,
    ILogger<RevokedClientTokensRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan FirstReadRetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not before the hub has started: its migrations (a hosted service before this one) may still be running.
        using (var started = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStarted))
        {
            try
            {
                await Task.Delay(Timeout.Infinite, started.Token);
            }
            catch (OperationCanceledException)
            {
                // Started, or stopping: a hub that failed to start (a port in use) stops it before it ever started,
                // and the cancellation is no failure to report (the host would log it as a crash).
            }
        }

        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        // Until the first read succeeds, a client disabled (or rotated) before this instance started is not known here: retried
        // every second rather than at the refresh interval.
        while (!await RefreshAsync(stoppingToken))
        {
            await Task.Delay(FirstReadRetryDelay, timeProvider, stoppingToken);
        }

        using var timer = new PeriodicTimer(options.Value.EmbeddedIssuer.DisabledClientsRefreshInterval, timeProvider);
        while (await WaitAsync(timer, stoppingToken))
        {
            await RefreshAsync(stoppingToken);
        }
    }

    /// <summary>Reads the disabled clients and rotated secrets; false when the database could not be read (logged).</summary>
    internal async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            // The disabling and rotation instants are application properties (ClientApplications), in OpenIddict's JSON
            // column: a text search finds the rows that have one, and the exact check reads each one's properties.
            var marked = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
                .Where(application => application.Properties != null
                    && (application.Properties.Contains(Issuer.ClientApplications.DisabledAtProperty)
                        || application.Properties.Contains(Issuer.ClientApplications.SecretRotatedAtProperty)))
                .Select(application => new { application.ClientId, application.Properties })
                .ToListAsync(cancellationToken);
            // Every rotation is kept, however old: skipping those older than a token's lifetime would compare this
            // instance's clock with the issuing one's, and a client has one entry whatever its number of rotations.
            List<KeyValuePair<string, DateTimeOffset>> revocations = [];
            foreach (var application in marked)
            {
                if (application.ClientId is not null && Issuer.ClientApplications.LastRotation(application.Properties) is { } last)
                {
                    revocations.Add(new(application.ClientId, last));
                }
            }

            revokedTokens.Merge(revocations);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            IdentityLog.DisabledClientsUnreadable(logger, FailureCause.Describe(exception));
            return false;
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
