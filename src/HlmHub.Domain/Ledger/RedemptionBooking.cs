using HlmHub.Domain.Rules;

namespace HlmHub.Domain.Ledger;

/// <summary>
/// How an accepted redemption is booked in the club's ledger, in the same database transaction as the redemption:
/// <list type="bullet">
/// <item>the value given to the tenant, as memo entries: debit the partner's <see cref="AccountKind.DiscountsGranted"/>,
/// credit the club's <see cref="AccountKind.TenantSavings"/>, for the computed discount;</item>
/// <item>when the offer is co-funded, the club's share: debit <see cref="AccountKind.SubsidyExpense"/>, credit the
/// partner's <see cref="AccountKind.SubsidyPayable"/>.</item>
/// </list>
/// A redemption whose discount is zero (a service price) posts nothing: the ledger has no zero entries. A
/// cancellation posts the reversal of the original's transaction.
/// </summary>
public static class RedemptionBooking
{
    /// <summary>The accounts a redemption of <paramref name="partnerId"/>'s offer in <paramref name="clubId"/> may post to.</summary>
    public static IReadOnlyList<LedgerAccount> Accounts(string clubId, string partnerId) =>
    [
        LedgerAccount.Create(clubId, AccountKind.DiscountsGranted, partnerId),
        LedgerAccount.Create(clubId, AccountKind.TenantSavings),
        LedgerAccount.Create(clubId, AccountKind.SubsidyExpense),
        LedgerAccount.Create(clubId, AccountKind.SubsidyPayable, partnerId),
    ];

    /// <summary>
    /// The postings of an accepted redemption (not a cancellation) decided under <paramref name="terms"/>: empty when
    /// its computed discount is zero.
    /// </summary>
    public static IReadOnlyList<Posting> Postings(Redemption redemption, OfferTerms terms)
    {
        ArgumentNullException.ThrowIfNull(redemption);
        ArgumentNullException.ThrowIfNull(terms);
        if (redemption.Kind != RedemptionKind.Redemption || redemption.Outcome != RedemptionOutcome.Accepted || redemption.ClubId is not { } clubId)
        {
            throw DomainException.Precondition("redemption", "only an accepted redemption is booked; a cancellation reverses the original's booking");
        }

        var discount = redemption.ComputedDiscount;
        if (discount == Money.Zero)
        {
            return [];
        }

        var postings = new List<Posting>(4)
        {
            Posting.Debit(LedgerAccount.IdFor(clubId, AccountKind.DiscountsGranted, redemption.PartnerId), discount),
            Posting.Credit(LedgerAccount.IdFor(clubId, AccountKind.TenantSavings), discount),
        };
        var clubShare = DiscountRules.ClubFundedShare(terms, discount);
        if (clubShare > Money.Zero)
        {
            postings.Add(Posting.Debit(LedgerAccount.IdFor(clubId, AccountKind.SubsidyExpense), clubShare));
            postings.Add(Posting.Credit(LedgerAccount.IdFor(clubId, AccountKind.SubsidyPayable, redemption.PartnerId), clubShare));
        }

        return postings;
    }

    /// <summary>
    /// The ledger transaction of an accepted redemption, keyed <see cref="IdempotencyKeys.Redemption"/> of its id and
    /// booked in its period; null when it posts nothing.
    /// </summary>
    public static LedgerTransaction? Transaction(Guid transactionId, Redemption redemption, OfferTerms terms, DateTimeOffset recordedAt)
    {
        var postings = Postings(redemption, terms);
        return postings.Count == 0
            ? null
            : LedgerTransaction.Create(
                transactionId,
                IdempotencyKeys.Redemption(redemption.Id),
                redemption.ClubId!,
                TransactionKind.Redemption,
                redemption.Period,
                $"Redemption {redemption.PartnerEventId} of {redemption.OfferId} by {redemption.PartnerId}",
                redemption.OccurredAt,
                recordedAt,
                postings);
    }

    /// <summary>
    /// The club's payment to <paramref name="partnerId"/> of co-funded shares it owes: debit the partner's
    /// <see cref="AccountKind.SubsidyPayable"/>, credit the club's <see cref="AccountKind.Bank"/>, keyed by
    /// <see cref="IdempotencyKeys.SubsidySettlement"/> so a payment reference is booked once.
    /// </summary>
    public static LedgerTransaction SubsidySettlement(
        Guid transactionId, string clubId, string partnerId, string reference, Money amount, DateTimeOffset paidAt, Period bookingPeriod, DateTimeOffset recordedAt) =>
        LedgerTransaction.Create(
            transactionId,
            IdempotencyKeys.SubsidySettlement(clubId, partnerId, reference),
            clubId,
            TransactionKind.SubsidySettlement,
            bookingPeriod,
            $"Co-funded discounts paid to {partnerId}, reference {reference}",
            paidAt,
            recordedAt,
            [
                Posting.Debit(LedgerAccount.IdFor(clubId, AccountKind.SubsidyPayable, partnerId), amount),
                Posting.Credit(LedgerAccount.IdFor(clubId, AccountKind.Bank), amount),
            ]);
}
