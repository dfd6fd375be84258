using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Server.Features.Admin;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Server.Features.Federation;

/// <summary>
/// Changes one federation agreement for one of its parties (FederationService) or the club's administrator
/// (AdminService): loads the agreement and its club, lets the caller decide (who may act, then the domain change) and
/// saves. Both parties change the same row, and a decision depends on what the row says (an end can be brought
/// forward, never pushed back; an ended agreement cannot be given notice), so the save is conditional on the row being
/// as it was read (its concurrency tokens, <c>FederationAgreementConfiguration</c>). Unconditional, two notices given
/// at once let the later date win, and an end at once beside a notice left the row ended with a future end.
/// </summary>
internal static class FederationAgreementChanges
{
    /// <summary>
    /// How many times a change is decided. A request says what the caller wants ("end it by this date"), not which
    /// state it saw, so when the other party's change committed between the read and the save, deciding again on the
    /// fresh row gives the caller the answer it would have had had the two calls come one after the other: its change
    /// applied, or FAILED_PRECONDITION naming the other's notice or end. A row changed again meanwhile is ABORTED.
    /// </summary>
    private const int Attempts = 2;

    /// <summary>
    /// Loads agreement <paramref name="agreementId"/> (NOT_FOUND when there is none), calls <paramref name="decide"/>
    /// with it, its club and the instant of the decision, and saves, deciding again once on fresh data if the row
    /// changed meanwhile. Returns the agreement as saved and that instant.
    /// </summary>
    public static async Task<(FederationAgreement Agreement, DateTimeOffset At)> ChangeAsync(
        IDbContextFactory<HlmHubDbContext> dbContextFactory,
        TimeProvider timeProvider,
        Guid agreementId,
        Action<FederationAgreement, Club, DateTimeOffset> decide,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            var agreement = await db.FederationAgreements.SingleOrDefaultAsync(existing => existing.Id == agreementId, cancellationToken)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"agreement_id: federation agreement '{agreementId}' does not exist"));
            var club = await db.Clubs.AsNoTracking().SingleAsync(existing => existing.Id == agreement.ClubId, cancellationToken);
            // As stored: the answer shows the acceptance or end the agreement is listed with from then on.
            var now = AdminMapping.AsStored(timeProvider.GetUtcNow());
            decide(agreement, club, now);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return (agreement, now);
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                // The other party's change committed after the read: decide again on the row as it is now.
            }
            catch (DbUpdateConcurrencyException exception)
            {
                throw new RpcException(new Status(StatusCode.Aborted,
                    $"agreement_id: federation agreement '{agreementId}' was changed meanwhile, again while this call decided anew; nothing was changed: read it again and retry",
                    exception));
            }
        }
    }
}
