using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Fee payments, booked in the club's double-entry ledger once per payment reference.</summary>
internal sealed partial class AdminService
{
    /// <summary>
    /// Longest payment reference: 80 characters, so that the ledger idempotency key
    /// (<c>fee-payment:{contract}:{reference}</c>) stays within <see cref="Limits.IdempotencyKeyMaxLength"/>.
    /// </summary>
    public const int PaymentReferenceMaxLength = 80;

    /// <summary>How far ahead of the hub's clock a payment's <c>paid_at</c> may be: one day.</summary>
    private static readonly TimeSpan MaxPaidAtAhead = TimeSpan.FromDays(1);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.FeePayment> RecordFeePayment(V1.RecordFeePaymentRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        var (reference, amount, paidAt) = ReadPayment(request.PaymentReference, request.AmountCents, request.PaidAt);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var contract = await RequireOwnedContractAsync(db, caller, "contract_id", request.ContractId, cancellationToken);

        var key = IdempotencyKeys.FeePayment(contract.Id, reference);
        if (await FindRecordedAsync(db, contract, reference, key, amount, cancellationToken) is { } recorded)
        {
            return recorded;
        }

        var bookingPeriod = await PaymentBookingPeriodAsync(db, contract.ClubId, paidAt, cancellationToken);
        await AddMissingAccountsAsync(db, contract, cancellationToken);
        var transaction = FeeBooking.Payment(Guid.CreateVersion7(Now), contract, reference, amount, paidAt, bookingPeriod, Now);
        db.LedgerTransactions.Add(transaction);
        try
        {
            // Booked under the booking side of the club's month lock (RowLocks), taken before the closed-month guard
            // runs: a close of the club then either waits for this commit and sees the payment, or has committed first,
            // and the guard refuses the booking (ABORTED; the retry books it in the next open month). Without it, the
            // booking could pass the guard while a close checked the month and commit after the closure.
            await using var booking = await db.Database.BeginTransactionAsync(cancellationToken);
            await RowLocks.ReadClubsForBookingAsync(db, [contract.ClubId], cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await booking.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (StorageErrors.IsUniqueViolation(exception))
        {
            // A concurrent retry of the same payment booked it first: answer as a retry does.
            await using var fresh = await dbContextFactory.CreateDbContextAsync(cancellationToken);
            var first = await FindRecordedAsync(fresh, contract, reference, key, amount, cancellationToken);
            if (first is null)
            {
                throw;
            }

            return first;
        }

        AdminLog.FeePaymentRecorded(logger, caller.ClientId, reference, amount.ToString(), contract.Id);
        return ToProto(transaction, contract, reference, amount, alreadyRecorded: false);
    }

    /// <summary>
    /// A payment's reference, amount and instant, checked alike for a partner's fee payment and the club's subsidy
    /// settlement: a printable reference that fits the ledger's idempotency key, 1 cent to <see cref="Limits.MaxAmountCents"/>,
    /// and not in the future.
    /// </summary>
    private (string Reference, Money Amount, DateTimeOffset PaidAt) ReadPayment(string paymentReference, long amountCents, Google.Protobuf.WellKnownTypes.Timestamp? paidAtSent)
    {
        var reference = paymentReference.Trim();
        if (reference.Length is 0 or > PaymentReferenceMaxLength || !PrintableText.Is(reference))
        {
            throw AdminMapping.Invalid("payment_reference", $"is required: 1 to {PaymentReferenceMaxLength} printable characters");
        }

        if (amountCents is <= 0 or > Limits.MaxAmountCents)
        {
            throw AdminMapping.Invalid("amount_cents", $"must be 1 to {Limits.MaxAmountCents} (10,000,000.00 EUR)");
        }

        // A payment is booked in the month it was made: one in the future (beyond a day's slack for time zones and
        // clocks) is a slip, such as milliseconds sent as seconds, and would be booked in a month to come.
        var paidAt = AdminMapping.ToDomain("paid_at", paidAtSent) ?? Now;
        if (paidAt > Now + MaxPaidAtAhead)
        {
            throw AdminMapping.Invalid("paid_at", $"must not be in the future (it is {paidAt:yyyy-MM-ddTHH:mm:ssZ})");
        }

        return (reference, new Money(amountCents), paidAt);
    }

    /// <summary>
    /// The month a payment made at <paramref name="paidAt"/> is booked in: its own, or the next open month when the club
    /// has closed that one (the database refuses a booking into a closed month anyway; this picks the month it belongs in).
    /// </summary>
    private static async Task<Period> PaymentBookingPeriodAsync(HlmHubDbContext db, string clubId, DateTimeOffset paidAt, CancellationToken cancellationToken)
    {
        var closedPeriods = await db.PeriodClosures.AsNoTracking()
            .Where(closure => closure.ClubId == clubId)
            .Select(closure => closure.Period)
            .ToListAsync(cancellationToken);
        return PeriodRules.BookingPeriod(Period.Of(paidAt), closedPeriods);
    }

    /// <summary>The payment already booked under <paramref name="key"/>, if any; a different amount is refused.</summary>
    private static async Task<V1.FeePayment?> FindRecordedAsync(
        HlmHubDbContext db, Contract contract, string reference, string key, Money amount, CancellationToken cancellationToken)
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
            throw new DomainException(
                DomainErrorKind.FailedPrecondition,
                "payment_reference",
                $"'{reference}' was already recorded for contract '{contract.Id}' with {bookedAmount}, not {amount}: a payment reference is booked once");
        }

        return ToProto(existing, contract, reference, bookedAmount, alreadyRecorded: true);
    }

    private static Money BookedAmount(LedgerTransaction transaction) =>
        transaction.Entries.Where(entry => entry.Side == EntrySide.Debit).Aggregate(Money.Zero, (sum, entry) => sum + entry.Amount);

    /// <summary>The club's bank account and the partner's fees-receivable account are created on first use.</summary>
    private static async Task AddMissingAccountsAsync(HlmHubDbContext db, Contract contract, CancellationToken cancellationToken)
    {
        LedgerAccount[] needed =
        [
            LedgerAccount.Create(contract.ClubId, AccountKind.Bank),
            LedgerAccount.Create(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId),
        ];
        var ids = needed.Select(account => account.Id).ToList();
        var existing = await db.LedgerAccounts.Where(account => ids.Contains(account.Id)).Select(account => account.Id).ToListAsync(cancellationToken);
        db.LedgerAccounts.AddRange(needed.Where(account => !existing.Contains(account.Id)));
    }

    private static V1.FeePayment ToProto(LedgerTransaction transaction, Contract contract, string reference, Money amount, bool alreadyRecorded) => new()
    {
        TransactionId = transaction.Id.ToString(),
        ContractId = contract.Id,
        ClubId = contract.ClubId,
        PartnerId = contract.PartnerId,
        PaymentReference = reference,
        AmountCents = amount.Cents,
        Period = transaction.Period.ToString(),
        RecordedAt = AdminMapping.ToProto(transaction.RecordedAt),
        AlreadyRecorded = alreadyRecorded,
    };
}
