namespace HlmHub.Domain.Ledger;

/// <summary>
/// A partner's yearly fee (DESIGN.md §1): it falls due on the contract's start date and on each anniversary of it
/// while the contract runs (an end date before the anniversary stops it), and is accrued once per anniversary:
/// debit the partner's <see cref="AccountKind.FeesReceivable"/>, credit the club's <see cref="AccountKind.FeeRevenue"/>,
/// keyed by the contract and the month of the anniversary so a second accrual run books nothing. A payment
/// (<see cref="IdempotencyKeys.FeePayment"/>) debits the bank and credits the receivable. A fee is overdue when
/// the receivable still holds it <see cref="DefaultPaymentTermDays"/> days after it fell due.
/// </summary>
public static class FeeBooking
{
    /// <summary>Days a partner has to pay a fee once it falls due, unless configured otherwise.</summary>
    public const int DefaultPaymentTermDays = 30;

    /// <summary>The accounts a fee of <paramref name="partnerId"/> in <paramref name="clubId"/> posts to, payments included.</summary>
    public static IReadOnlyList<LedgerAccount> Accounts(string clubId, string partnerId) =>
    [
        LedgerAccount.Create(clubId, AccountKind.FeesReceivable, partnerId),
        LedgerAccount.Create(clubId, AccountKind.FeeRevenue),
        LedgerAccount.Create(clubId, AccountKind.Bank),
    ];

    /// <summary>
    /// The days in [<paramref name="from"/>, <paramref name="to"/>] on which the contract's fee falls due: its start
    /// date and its anniversaries (29 February falls on 28 February in other years), none after its end date. A
    /// contract without a fee (0, an association's, say) has none: nothing to accrue, nothing overdue, nothing for
    /// reconciliation to expect.
    /// </summary>
    public static IEnumerable<DateOnly> DueDatesBetween(Contract contract, DateOnly from, DateOnly to)
    {
        ArgumentNullException.ThrowIfNull(contract);
        if (contract.YearlyFee.Cents == 0)
        {
            yield break;
        }

        var last = contract.EndDate is { } end && end < to ? end : to;
        for (var year = Math.Max(contract.StartDate.Year, from.Year); year <= last.Year; year++)
        {
            var day = Math.Min(contract.StartDate.Day, DateTime.DaysInMonth(year, contract.StartDate.Month));
            var due = new DateOnly(year, contract.StartDate.Month, day);
            if (due >= from && due <= last && due >= contract.StartDate)
            {
                yield return due;
            }
        }
    }

    /// <summary>The idempotency key of the fee that fell due on <paramref name="dueDate"/>.</summary>
    public static string AccrualKey(Contract contract, DateOnly dueDate)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return IdempotencyKeys.FeeAccrual(contract.Id, new Period(dueDate.Year, dueDate.Month));
    }

    /// <summary>
    /// The accrual of the fee that fell due on <paramref name="dueDate"/>, booked in <paramref name="bookingPeriod"/>
    /// (the due date's month, or the next open month when that one is closed: <see cref="PeriodRules.BookingPeriod"/>).
    /// </summary>
    public static LedgerTransaction Accrual(Guid transactionId, Contract contract, DateOnly dueDate, Period bookingPeriod, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return LedgerTransaction.Create(
            transactionId,
            AccrualKey(contract, dueDate),
            contract.ClubId,
            TransactionKind.FeeAccrual,
            bookingPeriod,
            $"Yearly fee of {contract.PartnerId} on contract {contract.Id} due {dueDate:yyyy-MM-dd}",
            Period.StartOfDayUtc(dueDate),
            recordedAt,
            [
                Posting.Debit(LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId), contract.YearlyFee),
                Posting.Credit(LedgerAccount.IdFor(contract.ClubId, AccountKind.FeeRevenue), contract.YearlyFee),
            ]);
    }

    /// <summary>
    /// A partner's payment of <paramref name="amount"/> on its contract, under the partner's own payment reference:
    /// debit the club's bank, credit the partner's fees-receivable (keyed by <see cref="IdempotencyKeys.FeePayment"/>,
    /// so a reference is booked once).
    /// </summary>
    public static LedgerTransaction Payment(
        Guid transactionId, Contract contract, string reference, Money amount, DateTimeOffset paidAt, Period bookingPeriod, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return LedgerTransaction.Create(
            transactionId,
            IdempotencyKeys.FeePayment(contract.Id, reference),
            contract.ClubId,
            TransactionKind.FeePayment,
            bookingPeriod,
            $"Fee payment {reference} from {contract.PartnerId} on contract {contract.Id}",
            paidAt,
            recordedAt,
            [
                Posting.Debit(LedgerAccount.IdFor(contract.ClubId, AccountKind.Bank), amount),
                Posting.Credit(LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId), amount),
            ]);
    }

    /// <summary>The last day to pay a fee that fell due on <paramref name="dueDate"/>.</summary>
    public static DateOnly PayBy(DateOnly dueDate, int paymentTermDays = DefaultPaymentTermDays) =>
        dueDate.AddDays(Require.InRange("paymentTermDays", paymentTermDays, 0, 366));
}
