using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// Subsidy settlements: a co-funded offer books the club's share of each discount as owed to the partner
/// (subsidy-payable); the club pays it by bank transfer and records that here, once per payment reference.
/// </summary>
internal sealed partial class AdminService
{
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.SubsidySettlement> RecordSubsidySettlement(V1.RecordSubsidySettlementRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        var (reference, amount, paidAt) = ReadPayment(request.PaymentReference, request.AmountCents, request.PaidAt);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var club = await RequireClubAsync(db, "club_id", request.ClubId, cancellationToken);
        var partner = await RequirePartnerAsync(db, "partner_id", request.PartnerId, cancellationToken);
        var key = IdempotencyKeys.SubsidySettlement(club.Id, partner.Id, reference);
        if (key.Length > Limits.IdempotencyKeyMaxLength)
        {
            // The ledger keys a settlement by club, partner and reference together: long ids leave less for the reference.
            throw AdminMapping.Invalid(
                "payment_reference", $"is too long for club '{club.Id}' and partner '{partner.Id}': at most {reference.Length - (key.Length - Limits.IdempotencyKeyMaxLength)} characters");
        }

        // Two settlements at once would each read what is owed before the other books, and together pay more: each
        // takes the partner's lock first, so the second reads what the first booked.
        await using var lockedForSettling = await db.Database.BeginTransactionAsync(cancellationToken);
        await RowLocks.LockPartnerAsync(db, partner.Id, cancellationToken);
        if (await FindSettlementAsync(db, club.Id, partner.Id, reference, key, amount, cancellationToken) is { } recorded)
        {
            return recorded;
        }

        // More than owed would leave the partner's account owing the club: a slip (a wrong partner, a digit too many).
        var owed = await SubsidyOwedAsync(db, club.Id, partner.Id, cancellationToken);
        if (amount > owed)
        {
            throw AdminMapping.Precondition(
                "amount_cents", $"the club owes {partner.Id} {owed} of co-funded discounts, less than {amount}: record at most what is owed");
        }

        // The booking side of the club's month lock (RowLocks), before its closed months are read: a close of the club
        // either waits for this commit (and sees the settlement), or has committed, and its closure is read here.
        await RowLocks.ReadClubsForBookingAsync(db, [club.Id], cancellationToken);
        var bookingPeriod = await PaymentBookingPeriodAsync(db, club.Id, paidAt, cancellationToken);
        var bank = LedgerAccount.Create(club.Id, AccountKind.Bank);
        if (!await db.LedgerAccounts.AnyAsync(account => account.Id == bank.Id, cancellationToken))
        {
            db.LedgerAccounts.Add(bank);
        }

        var transaction = RedemptionBooking.SubsidySettlement(Guid.CreateVersion7(Now), club.Id, partner.Id, reference, amount, paidAt, bookingPeriod, Now);
        db.LedgerTransactions.Add(transaction);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await lockedForSettling.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            // A concurrent retry of the same settlement booked it first: answer as a retry does.
            await using var fresh = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            return await FindSettlementAsync(fresh, club.Id, partner.Id, reference, key, amount, cancellationToken) ?? throw new RpcException(
                new Status(StatusCode.Aborted, "a concurrent call wrote the same ledger account first: call again"));
        }

        AdminLog.SubsidySettlementRecorded(logger, caller.ClientId, reference, amount.ToString(), partner.Id, club.Id);
        return ToProto(transaction, club.Id, partner.Id, reference, amount, owed - amount, alreadyRecorded: false);
    }

    private async Task<V1.SubsidySettlement?> FindSettlementAsync(
        HlmHubDbContext db, string clubId, string partnerId, string reference, string key, Money amount, CancellationToken cancellationToken)
    {
        var existing = await db.LedgerTransactions.AsNoTracking()
            .Include(transaction => transaction.Entries)
            .SingleOrDefaultAsync(transaction => transaction.IdempotencyKey == key, cancellationToken);
        if (existing is null)
        {
            return null;
        }

        var bookedAmount = BookedAmount(existing);
        if (bookedAmount != amount)
        {
            throw AdminMapping.Precondition(
                "payment_reference", $"'{reference}' was already recorded for {partnerId} with {bookedAmount}, not {amount}: a payment reference is booked once");
        }

        var owed = await SubsidyOwedAsync(db, clubId, partnerId, cancellationToken);
        return ToProto(existing, clubId, partnerId, reference, bookedAmount, owed, alreadyRecorded: true);
    }

    /// <summary>The credit balance of the partner's subsidy-payable account, every month included: what the club owes.</summary>
    private static async Task<Money> SubsidyOwedAsync(HlmHubDbContext db, string clubId, string partnerId, CancellationToken cancellationToken)
    {
        var accountId = LedgerAccount.IdFor(clubId, AccountKind.SubsidyPayable, partnerId);
        var sides = await db.LedgerEntries.AsNoTracking()
            .Where(entry => entry.AccountId == accountId)
            .GroupBy(entry => entry.Side)
            .Select(group => new { Side = group.Key, Cents = group.Sum(entry => StorageFunctions.Cents(entry.Amount)) })
            .ToListAsync(cancellationToken);
        var credits = sides.Where(side => side.Side == EntrySide.Credit).Sum(side => side.Cents);
        var debits = sides.Where(side => side.Side == EntrySide.Debit).Sum(side => side.Cents);
        return new Money(credits - debits);
    }

    private static V1.SubsidySettlement ToProto(LedgerTransaction transaction, string clubId, string partnerId, string reference, Money amount, Money stillOwed, bool alreadyRecorded) => new()
    {
        TransactionId = transaction.Id.ToString(),
        ClubId = clubId,
        PartnerId = partnerId,
        PaymentReference = reference,
        AmountCents = amount.Cents,
        Period = transaction.Period.ToString(),
        RecordedAt = AdminMapping.ToProto(transaction.RecordedAt),
        AlreadyRecorded = alreadyRecorded,
        StillOwedCents = stillOwed.Cents,
    };
}
