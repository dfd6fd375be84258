using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Statements;

/// <summary>
/// <c>hlmhub.v1.StatementService</c> (protos/hlmhub/v1/statement.proto): a partner's own totals for one club and one
/// month. Each submission is a new revision of (partner, club, month); reconciliation reads the latest, and earlier
/// revisions stay as history. Statements for a closed month are refused: closing freezes the month's inputs.
/// </summary>
internal sealed class StatementService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<StatementOptions> options,
    TimeProvider timeProvider) : V1.StatementService.StatementServiceBase
{
    /// <summary>The scope the service requires.</summary>
    public const string Scope = "hlmhub.statements";

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task<V1.SubmitStatementResponse> SubmitStatement(V1.SubmitStatementRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        var partnerId = caller.PartnerId ?? "";
        caller.EnsureOwns(OwnerKind.Partner, partnerId);
        var limits = options.Value;
        var period = Period.Parse("period", request.Period);
        var now = timeProvider.GetUtcNow();
        if (period > Period.Of(now))
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "period", "must be a month that has started");
        }

        if (request.Lines.Count > limits.MaxLines)
        {
            throw new DomainException(DomainErrorKind.LimitExceeded, "lines", $"at most Statements:MaxLines = {limits.MaxLines} lines");
        }

        if (request.EventIds.Count > limits.MaxEventIds)
        {
            throw new DomainException(
                DomainErrorKind.LimitExceeded, "event_ids", $"at most Statements:MaxEventIds = {limits.MaxEventIds}: send totals only beyond that");
        }

        // Counts and totals are net of the month's cancellations, and may be negative: a cancellation counts in the
        // month it happens (as the hub books it), so a month whose cancellations of earlier redemptions outweigh its
        // own redemptions is negative in the partner's books and in the hub's alike. A bound on each total, either
        // way, keeps the statement's sums, and the reconciliation's, far from a 64-bit overflow.
        if (request.Lines.Any(line => !IsWithinBound(line.PurchaseTotalCents) || !IsWithinBound(line.DiscountTotalCents)))
        {
            throw new DomainException(
                DomainErrorKind.InvalidArgument, "lines", $"a total is at most {Limits.MaxTotalCents} cents (10,000,000,000.00 EUR) either way, net of cancellations");
        }

        // Every id is checked before any query: a malformed one (a control character that PostgreSQL cannot take in a
        // query, an event id with a trailing space that would repeat another once stored) is INVALID_ARGUMENT naming
        // it, never a failed query.
        Statement.RequireWellFormedIds(request.ClubId, request.Lines.Select(line => line.OfferId), request.EventIds);
        var clubId = request.ClubId;

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // A club the partner has no contract with, or an offer that is not the partner's in that club, is refused
        // before anything is written.
        if (!await db.Contracts.AnyAsync(contract => contract.ClubId == clubId && contract.PartnerId == partnerId, cancellationToken))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"club_id: partner '{partnerId}' has no contract with club '{clubId}'"));
        }

        var offerIds = request.Lines.Select(line => line.OfferId).Distinct(StringComparer.Ordinal).ToList();
        var ownOffers = await db.Offers.Where(offer => offerIds.Contains(offer.Id) && offer.PartnerId == partnerId && offer.ClubId == clubId)
            .Select(offer => offer.Id).ToListAsync(cancellationToken);
        if (offerIds.FirstOrDefault(id => !ownOffers.Contains(id)) is { } foreign)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"lines.offer_id: '{foreign}' is not an offer of partner '{partnerId}' in club '{clubId}'"));
        }

        // Checked and submitted under the booking side of the club's month lock (RowLocks): a close of the club either
        // waits for this commit (and its dry run reads the statement), or has committed, and its closure is read here.
        // Without it a revision that read the month as open could commit after the closure.
        await using var submitting = await db.Database.BeginTransactionAsync(cancellationToken);
        await RowLocks.ReadClubsForBookingAsync(db, [clubId], cancellationToken);
        if (await db.PeriodClosures.AnyAsync(closure => closure.ClubId == clubId && closure.Period == period, cancellationToken))
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "period", $"{period} is closed for club '{clubId}': its statements are frozen");
        }

        var revision = 1 + (await db.Statements
            .Where(statement => statement.PartnerId == partnerId && statement.ClubId == clubId && statement.Period == period)
            .MaxAsync(statement => (int?)statement.Revision, cancellationToken) ?? 0);
        var statement = Statement.Submit(
            Guid.CreateVersion7(now),
            partnerId,
            clubId,
            period,
            revision,
            request.Lines.Select(line => (line.OfferId, line.RedemptionCount, new Money(line.PurchaseTotalCents), new Money(line.DiscountTotalCents))),
            request.EventIds,
            now);
        db.Statements.Add(statement);
        // A concurrent submission taking the same revision loses on the unique index and is answered ABORTED: retry.
        await db.SaveChangesAsync(cancellationToken);
        await submitting.CommitAsync(cancellationToken);
        return new V1.SubmitStatementResponse
        {
            StatementId = statement.Id.ToString(),
            ClubId = clubId,
            Period = period.ToString(),
            Revision = revision,
            Lines = statement.Lines.Count,
            EventIds = statement.Events.Count,
            SubmittedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now),
        };
    }

    private static bool IsWithinBound(long cents) => cents is >= -Limits.MaxTotalCents and <= Limits.MaxTotalCents;
}
