using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>What one pruning run deleted.</summary>
internal sealed record PruneResult(long Tokens, long Authorizations, int Assertions);

/// <summary>
/// Deletes what the OAuth server stores and no longer needs: OpenIddict's tokens and authorizations that expired or
/// were revoked more than <see cref="SchedulingOptions.PruneAfter"/> ago (the embedded issuer disables both
/// storages today, so these are normally empty; pruning keeps them bounded if storage is ever turned on), and the
/// used client-assertion <c>jti</c>s whose assertion has expired (the replay guard only deletes them when another
/// assertion arrives). Deleting the expired is idempotent: a second run deletes nothing.
/// </summary>
internal sealed class OAuthStorePruning(
    IServiceScopeFactory scopeFactory,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<SchedulingOptions> options,
    TimeProvider timeProvider,
    ILogger<OAuthStorePruning> logger)
{
    public async Task<PruneResult> PruneAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var threshold = now - options.Value.PruneAfter;
        long tokens, authorizations;
        await using (var scope = scopeFactory.CreateAsyncScope())
        {
            // Tokens first: an authorization is only pruned once no valid token refers to it.
            tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
            authorizations = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var assertions = await db.ClientAssertionUses.Where(use => use.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        SchedulingLog.Pruned(logger, tokens, authorizations, assertions);
        return new PruneResult(tokens, authorizations, assertions);
    }
}
