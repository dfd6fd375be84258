using System.Globalization;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Reconciliation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Reconciliation;

/// <summary>The ledger's side of a run: redemption postings, partner fees and co-funded subsidies.</summary>
public sealed partial class ReconciliationEngine
{
    // ---- Phase 4: ledger drift. Per partner, the month's movement on its discounts-granted account must equal the
    // accepted discounts net of cancellations, and the month must hold one redemption transaction per accepted
    // redemption with a discount and one reversal per such cancellation. Only when that does not hold are the
    // redemptions paged through (keyset, by event id) to name those without their posting.

    private async Task ReconcileLedgerAsync(HlmHubDbContext db, RunState state, List<HubGroup> hub, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var month = db.LedgerTransactions.Where(transaction => transaction.ClubId == request.ClubId && transaction.Period == request.Period);
        // One pass over the month's transactions for the three counts (each its own query read the month three times).
        var reversalKeyPrefix = IdempotencyKeys.Reversal(RedemptionKeyPrefix);
        var counts = await month
            .GroupBy(transaction => 1)
            .Select(all => new
            {
                Transactions = all.LongCount(),
                Redemptions = all.LongCount(transaction => transaction.Kind == TransactionKind.Redemption),
                Reversals = all.LongCount(transaction => transaction.Kind == TransactionKind.Reversal && transaction.IdempotencyKey.StartsWith(reversalKeyPrefix)),
            })
            .SingleOrDefaultAsync(cancellationToken);
        state.LedgerTransactions = counts?.Transactions ?? 0;
        var redemptionPostings = counts?.Redemptions ?? 0;
        var redemptionReversals = counts?.Reversals ?? 0;
        state.Report(4, 0, state.LedgerTransactions);
        var discountAccounts = await db.LedgerAccounts
            .Where(account => account.ClubId == request.ClubId && account.Kind == AccountKind.DiscountsGranted)
            .Select(account => account.Id)
            .ToListAsync(cancellationToken);
        // Every account's movements in the month, then the discount accounts' picked here. Filtering by account in SQL
        // let SQLite drive the join from the account's index, i.e. from every month's entries (16 s for an empty
        // month next to a month of a million); grouping the month's own entries keeps the work to the month.
        var accountSet = discountAccounts.ToHashSet(StringComparer.Ordinal);
        var movements = accountSet.Count == 0
            ? []
            : (await month
                .SelectMany(transaction => transaction.Entries)
                .GroupBy(entry => new { entry.AccountId, entry.Side })
                .Select(group => new AccountMovement(group.Key.AccountId, group.Key.Side, group.Sum(entry => StorageFunctions.Cents(entry.Amount))))
                .ToListAsync(cancellationToken))
                .Where(movement => accountSet.Contains(movement.AccountId))
                .ToList();
        state.Fingerprint.Append(CultureInfo.InvariantCulture, $"ledger={state.LedgerTransactions}/{redemptionPostings}/{redemptionReversals};");
        foreach (var movement in movements.OrderBy(item => item.AccountId, StringComparer.Ordinal).ThenBy(item => item.Side))
        {
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"move={movement.AccountId}/{movement.Side}/{movement.Cents};");
        }

        var expectedPostings = hub.Where(group => group.Kind == RedemptionKind.Redemption).Sum(group => group.Booked);
        var expectedReversals = hub.Where(group => group.Kind == RedemptionKind.Cancellation).Sum(group => group.Booked);
        var partners = hub.Select(group => group.PartnerId)
            .Concat(movements.Select(movement => PartnerOfAccount(request.ClubId, movement.AccountId)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var amountsDrift = false;
        foreach (var partnerId in partners)
        {
            var expected = hub.Where(group => group.PartnerId == partnerId)
                .Sum(group => group.Kind == RedemptionKind.Redemption ? group.Discount : -group.Discount);
            var accountId = LedgerAccount.IdFor(request.ClubId, AccountKind.DiscountsGranted, partnerId);
            var actual = movements.Where(movement => movement.AccountId == accountId)
                .Sum(movement => movement.Side == EntrySide.Debit ? movement.Cents : -movement.Cents);
            if (actual != expected)
            {
                amountsDrift = true;
                state.Add(new FoundDiscrepancy(
                    DiscrepancyKind.LedgerDrift, partnerId, null, null, null, accountId, expected, actual, 0, 0,
                    $"{accountId} moved by {Euros(actual)} in {request.Period}; the accepted discounts net of cancellations are {Euros(expected)}"));
            }
        }

        if (amountsDrift || redemptionPostings != expectedPostings || redemptionReversals != expectedReversals)
        {
            var (missing, elsewhere) = await FindUnpostedAsync(db, state, partners, cancellationToken);
            var matchedPostings = expectedPostings - missing.Redemptions - elsewhere.Redemptions;
            var matchedReversals = expectedReversals - missing.Cancellations - elsewhere.Cancellations;
            if (redemptionPostings > matchedPostings || redemptionReversals > matchedReversals)
            {
                state.Add(new FoundDiscrepancy(
                    DiscrepancyKind.LedgerDrift, null, null, null, null, null, 0, 0, matchedPostings + matchedReversals, redemptionPostings + redemptionReversals,
                    $"{redemptionPostings - matchedPostings} redemption posting(s) and {redemptionReversals - matchedReversals} reversal(s) booked in {request.Period} match no accepted event of the month"));
            }
        }

        state.Report(4, state.LedgerTransactions, state.LedgerTransactions);
    }

    private static string PartnerOfAccount(string clubId, string accountId)
    {
        // "{club}/{partner}/discounts-granted"
        var rest = accountId[(clubId.Length + 1)..];
        return rest[..rest.IndexOf('/', StringComparison.Ordinal)];
    }

    private async Task<(EventCounts Missing, EventCounts Elsewhere)> FindUnpostedAsync(
        HlmHubDbContext db, RunState state, List<string> partners, CancellationToken cancellationToken)
    {
        var missing = new EventCounts();
        var elsewhere = new EventCounts();
        var batchSize = _options.BatchSize;
        foreach (var partnerId in partners)
        {
            var after = "";
            while (true)
            {
                var last = after;
                var batch = await Accepted(db, state.Request)
                    .Where(redemption => redemption.PartnerId == partnerId && StorageFunctions.Cents(redemption.ComputedDiscount) > 0
                        && string.Compare(redemption.PartnerEventId, last) > 0)
                    .OrderBy(redemption => redemption.PartnerEventId)
                    .Take(batchSize)
                    .Select(redemption => new { redemption.Id, redemption.PartnerEventId, redemption.OfferId, redemption.Kind, redemption.CancelsRedemptionId, Discount = StorageFunctions.Cents(redemption.ComputedDiscount) })
                    .ToListAsync(cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].PartnerEventId;
                var keys = batch.ToDictionary(
                    item => item.Kind == RedemptionKind.Redemption
                        ? IdempotencyKeys.Redemption(item.Id)
                        : IdempotencyKeys.Reversal(IdempotencyKeys.Redemption(item.CancelsRedemptionId ?? Guid.Empty)),
                    StringComparer.Ordinal);
                var keyList = keys.Keys.ToList();
                var booked = await db.LedgerTransactions
                    .Where(transaction => keyList.Contains(transaction.IdempotencyKey))
                    .Select(transaction => new { transaction.IdempotencyKey, transaction.ClubId, transaction.Period })
                    .ToListAsync(cancellationToken);
                var bookedByKey = booked.ToDictionary(item => item.IdempotencyKey, StringComparer.Ordinal);
                foreach (var (key, item) in keys)
                {
                    var isCancellation = item.Kind == RedemptionKind.Cancellation;
                    if (!bookedByKey.TryGetValue(key, out var posting))
                    {
                        missing.Add(isCancellation);
                        state.Add(new FoundDiscrepancy(
                            DiscrepancyKind.LedgerDrift, partnerId, item.OfferId, null, item.PartnerEventId, null, item.Discount, 0, 1, 0,
                            $"accepted {(isCancellation ? "cancellation" : "redemption")} {item.PartnerEventId} ({Euros(item.Discount)}) has no ledger transaction {key}"));
                    }
                    else if (posting.ClubId != state.Request.ClubId || posting.Period != state.Request.Period)
                    {
                        elsewhere.Add(isCancellation);
                        state.Add(new FoundDiscrepancy(
                            DiscrepancyKind.LedgerDrift, partnerId, item.OfferId, null, item.PartnerEventId, null, item.Discount, item.Discount, 1, 1,
                            $"accepted {(isCancellation ? "cancellation" : "redemption")} {item.PartnerEventId} of {state.Request.Period} is booked in {posting.ClubId} {posting.Period}"));
                    }
                }
            }
        }

        return (missing, elsewhere);
    }

    // ---- Phase 5: fees. As of the month's last day (or today, for the running month): every fee due by then is
    // accrued (its FeeBooking key exists, in whatever month it was booked), and what is accrued and still unpaid past
    // its pay-by day is overdue. Payments settle the oldest fees first.

    private async Task ReconcileFeesAsync(HlmHubDbContext db, RunState state, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var asOf = AsOfDay(request.Period);
        // A contract that starts after the as-of day has no fee due by then (nor one accrued): it does not touch the
        // month, and leaving it out keeps the month's fingerprint as it was when a partner signs later.
        var contracts = await db.Contracts.Where(contract => contract.ClubId == request.ClubId && contract.StartDate <= asOf).ToListAsync(cancellationToken);
        contracts = [.. contracts.OrderBy(contract => contract.Id, StringComparer.Ordinal)];
        state.Report(5, 0, contracts.Count);
        var feeTransactions = await FeeTransactionsAsync(db, request.ClubId, request.Period, asOf, cancellationToken);
        state.Fingerprint.Append(CultureInfo.InvariantCulture, $"asof={asOf:yyyy-MM-dd};");
        // The contracts are inputs as much as the ledger: a contract added, ended or repriced changes the fees due.
        foreach (var contract in contracts)
        {
            state.Fingerprint.Append(
                CultureInfo.InvariantCulture,
                $"contract={contract.Id}/{contract.PartnerId}/{contract.YearlyFee.Cents}/{contract.StartDate:yyyy-MM-dd}/{contract.EndDate:yyyy-MM-dd}/{contract.Status};");
        }

        foreach (var fee in feeTransactions.OrderBy(item => item.IdempotencyKey, StringComparer.Ordinal))
        {
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"fee={fee.IdempotencyKey}/{fee.Period}/{fee.Amount};");
        }

        var done = 0;
        foreach (var contract in contracts)
        {
            var accrualPrefix = $"{FeeAccrualKeyPrefix}{contract.Id}:";
            var paymentPrefix = $"{FeePaymentKeyPrefix}{contract.Id}:";
            var accrued = feeTransactions.Where(item => item.IdempotencyKey.StartsWith(accrualPrefix, StringComparison.Ordinal))
                .ToDictionary(item => item.IdempotencyKey, StringComparer.Ordinal);
            foreach (var due in FeeBooking.DueDatesBetween(contract, contract.StartDate, asOf))
            {
                var key = FeeBooking.AccrualKey(contract, due);
                if (!accrued.ContainsKey(key))
                {
                    state.Add(new FoundDiscrepancy(
                        DiscrepancyKind.FeeNotAccrued, contract.PartnerId, null, contract.Id, null, LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId),
                        contract.YearlyFee.Cents, 0, 1, 0,
                        $"the yearly fee of {contract.PartnerId} ({contract.YearlyFee}) fell due on {due:yyyy-MM-dd} and is not accrued ({key})"));
                }
            }

            var paid = feeTransactions.Where(item => item.IdempotencyKey.StartsWith(paymentPrefix, StringComparison.Ordinal)).Sum(item => item.Amount);
            var remainingPaid = paid;
            var overdue = 0L;
            var accruedTotal = 0L;
            DateOnly? firstOverdueDue = null;
            foreach (var fee in accrued.Values.OrderBy(item => item.OccurredAt))
            {
                accruedTotal += fee.Amount;
                var covered = Math.Min(remainingPaid, fee.Amount);
                remainingPaid -= covered;
                var dueDay = Period.DayOf(fee.OccurredAt);
                if (covered < fee.Amount && FeeBooking.PayBy(dueDay, _options.FeePaymentTermDays) < asOf)
                {
                    overdue += fee.Amount - covered;
                    firstOverdueDue ??= dueDay;
                }
            }

            if (overdue > 0)
            {
                state.Add(new FoundDiscrepancy(
                    DiscrepancyKind.FeeOverdue, contract.PartnerId, null, contract.Id, null, LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId),
                    accruedTotal, paid, 0, 0,
                    $"{contract.PartnerId} owes {Euros(overdue)} on contract {contract.Id} past its pay-by day (first due {firstOverdueDue:yyyy-MM-dd}, {_options.FeePaymentTermDays} days to pay); accrued {Euros(accruedTotal)}, paid {Euros(paid)}"));
            }

            state.Report(5, ++done, contracts.Count);
        }
    }

    /// <summary>
    /// A club's fee transactions as of <paramref name="asOf"/> in <paramref name="period"/>: the payments booked up to
    /// the month, and every accrual of a fee due by <paramref name="asOf"/> whatever month it was booked in. A fee due
    /// in a month closed before it was booked goes to the next open month (PeriodRules.BookingPeriod); read by its
    /// booking month alone, the closed month would report it "not accrued" for ever.
    /// </summary>
    private static async Task<List<FeeTransaction>> FeeTransactionsAsync(
        HlmHubDbContext db, string clubId, Period period, DateOnly asOf, CancellationToken cancellationToken)
    {
        var periodKey = period.Key;
        // An accrual's instant is the start of its due day (FeeBooking.Accrual).
        var dueBefore = Period.StartOfDayUtc(asOf.AddDays(1));
        return await db.LedgerTransactions
            .Where(transaction => transaction.ClubId == clubId
                && ((transaction.Kind == TransactionKind.FeeAccrual && transaction.OccurredAt < dueBefore)
                    || (transaction.Kind == TransactionKind.FeePayment && StorageFunctions.PeriodKey(transaction.Period) <= periodKey)))
            .Select(transaction => new FeeTransaction(
                transaction.IdempotencyKey,
                transaction.Kind,
                transaction.Period,
                transaction.OccurredAt,
                transaction.Entries.Where(entry => entry.Side == EntrySide.Debit).Sum(entry => StorageFunctions.Cents(entry.Amount))))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The day a month's fees are judged on: its last day, or today while the month runs (Paris).</summary>
    private DateOnly AsOfDay(Period period)
    {
        var lastDay = new DateOnly(period.Year, period.Month, DateTime.DaysInMonth(period.Year, period.Month));
        var today = Period.DayOf(timeProvider.GetUtcNow());
        return today < lastDay ? today : lastDay;
    }

    // ---- Phase 6: co-funded discounts the club still owes a partner at the month's end (SubsidyPayable credit balance
    // over every month up to this one).

    private static async Task FindUnsettledSubsidiesAsync(HlmHubDbContext db, RunState state, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var accounts = await db.LedgerAccounts
            .Where(account => account.ClubId == request.ClubId && account.Kind == AccountKind.SubsidyPayable)
            .Select(account => account.Id)
            .ToListAsync(cancellationToken);
        state.Report(6, 0, accounts.Count);
        var periodKey = request.Period.Key;
        var upToMonth = db.LedgerTransactions.Where(transaction => transaction.ClubId == request.ClubId && StorageFunctions.PeriodKey(transaction.Period) <= periodKey);
        // Most clubs co-fund nothing: without a subsidy account there is nothing to join.
        var sides = accounts.Count == 0
            ? []
            : await db.LedgerEntries
                .Where(entry => accounts.Contains(entry.AccountId))
                .Join(upToMonth, entry => entry.TransactionId, transaction => transaction.Id, (entry, transaction) => entry)
                .GroupBy(entry => new { entry.AccountId, entry.Side })
                .Select(group => new AccountMovement(group.Key.AccountId, group.Key.Side, group.Sum(entry => StorageFunctions.Cents(entry.Amount))))
                .ToListAsync(cancellationToken);
        foreach (var accountId in accounts.Order(StringComparer.Ordinal))
        {
            var owed = sides.Where(side => side.AccountId == accountId).Sum(side => side.Side == EntrySide.Credit ? side.Cents : -side.Cents);
            state.Fingerprint.Append(CultureInfo.InvariantCulture, $"subsidy={accountId}/{owed};");
            // A debit balance is no debt of the club: a share it paid for a redemption cancelled since, which the
            // partner's next co-funded discounts net off (the account keeps one running balance).
            if (owed > 0)
            {
                var partnerId = PartnerOfAccount(request.ClubId, accountId);
                state.Add(new FoundDiscrepancy(
                    DiscrepancyKind.SubsidyUnsettled, partnerId, null, null, null, accountId, 0, owed, 0, 0,
                    $"the club owes {partnerId} {Euros(owed)} of co-funded discounts at the end of {request.Period} ({accountId})"));
            }
        }

        state.Report(6, accounts.Count, accounts.Count);
    }

    private sealed record FeeTransaction(string IdempotencyKey, TransactionKind Kind, Period Period, DateTimeOffset OccurredAt, long Amount);

    private sealed record AccountMovement(string AccountId, EntrySide Side, long Cents);

    private sealed class EventCounts
    {
        public long Redemptions { get; private set; }

        public long Cancellations { get; private set; }

        public void Add(bool cancellation)
        {
            if (cancellation)
            {
                Cancellations++;
            }
            else
            {
                Redemptions++;
            }
        }
    }
}
