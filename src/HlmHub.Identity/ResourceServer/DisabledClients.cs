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
/// The embedded issuer's disabled clients, as the resource server sees them. A token stays valid until it expires,
/// so disabling a client alone would let its tokens, and the streams they opened, serve for up to
/// <c>Auth:TokenLifetime</c>. With this set, a disabled client's tokens are refused from the next call, and its open
/// streams end at their next read or write: at once on the instance that disabled it, within
/// <see cref="EmbeddedIssuerOptions.DisabledClientsRefreshInterval"/> on the others (<see cref="DisabledClientsRefresher"/>).
/// Only tokens of the embedded issuer are concerned: an external issuer's clients are its own.
/// </summary>
internal sealed class DisabledClients
{
    /// <summary>Why a disabled client's token is refused (UNAUTHENTICATED).</summary>
    public const string Refusal = "the token's client is disabled";

    private readonly object _gate = new();
    private readonly ConcurrentDictionary<TokenExpiry, string> _openStreams = new();
    private volatile FrozenSet<string> _disabled = FrozenSet<string>.Empty;

    /// <summary>True when <paramref name="clientId"/> is disabled. Read on every call: no lock, and nothing at all while no client is disabled.</summary>
    public bool IsDisabled(string clientId)
    {
        var disabled = _disabled;
        return disabled.Count != 0 && disabled.Contains(clientId);
    }

    /// <summary>This instance has just disabled <paramref name="clientId"/>.</summary>
    public void Disable(string clientId) => Merge([clientId]);

    /// <summary>
    /// Adds disabled clients (those the database holds: every instance's disabling) and ends their open streams. Only ever adds: a disabled client
    /// is never enabled again, and a read that started before this instance disabled a client must not drop it.
    /// </summary>
    public void Merge(IReadOnlyCollection<string> clientIds)
    {
        List<string> added;
        lock (_gate)
        {
            var before = _disabled;
            added = [.. clientIds.Where(id => !before.Contains(id))];
            if (added.Count == 0)
            {
                return;
            }

            _disabled = before.Concat(added).ToFrozenSet(StringComparer.Ordinal);
        }

        foreach (var clientId in added)
        {
            EndStreamsOf(clientId);
        }
    }

    /// <summary>
    /// Follows a streaming call of <paramref name="clientId"/> until the returned registration is disposed: if the client
    /// is disabled meanwhile, <paramref name="expiry"/> ends the call.
    /// </summary>
    public IDisposable Track(string clientId, TokenExpiry expiry)
    {
        _openStreams[expiry] = clientId;
        // Disabled between the call's authentication and now: the loop in EndStreamsOf may have run without it.
        if (IsDisabled(clientId))
        {
            expiry.EndBecauseClientDisabled();
        }

        return new Registration(this, expiry);
    }

    private void EndStreamsOf(string clientId)
    {
        foreach (var (expiry, owner) in _openStreams)
        {
            if (string.Equals(owner, clientId, StringComparison.Ordinal))
            {
                expiry.EndBecauseClientDisabled();
            }
        }
    }

    private sealed class Registration(DisabledClients owner, TokenExpiry expiry) : IDisposable
    {
        public void Dispose() => owner._openStreams.TryRemove(expiry, out _);
    }
}

/// <summary>
/// Reads the disabled clients from the database once the hub has started (its migrations applied), then every
/// <see cref="EmbeddedIssuerOptions.DisabledClientsRefreshInterval"/>. A failed read keeps the last set and is
/// tried again at the next tick.
/// </summary>
internal sealed class DisabledClientsRefresher(
    DisabledClients disabledClients,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<AuthOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider,
    ILogger<DisabledClientsRefresher> logger) : BackgroundService
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
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Started.
            }
        }

        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        // Until the first read succeeds, a client disabled before this instance started is not known here: retried
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

    /// <summary>Reads the disabled clients; false when the database could not be read (logged).</summary>
    internal async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            // The disabling instant is an application property (ClientApplications.DisabledAtProperty), in OpenIddict's
            // JSON column: a text search finds the few rows, and the exact check reads each one's properties.
            var marked = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
                .Where(application => application.Properties != null && application.Properties.Contains(Issuer.ClientApplications.DisabledAtProperty))
                .Select(application => new { application.ClientId, application.Properties })
                .ToListAsync(cancellationToken);
            disabledClients.Merge([.. marked
                .Where(application => application.ClientId is not null && Issuer.ClientApplications.IsDisabled(application.Properties))
                .Select(application => application.ClientId!)]);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            IdentityLog.DisabledClientsUnreadable(logger, exception.GetType().Name);
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
