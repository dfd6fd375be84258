using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// What the issue requires of the stored redemptions after any test, read straight from the database: every accepted
/// redemption (not a cancellation) with a non-zero discount has exactly one ledger transaction, keyed by its id, whose
/// entries balance and post its discount as the memo pair (discounts granted / tenant savings); a rejected or zero
/// redemption has none; no redemption ledger transaction lacks its redemption; and the ledger as a whole balances.
/// Returns the problems found (empty: all hold).
/// </summary>
internal static class RedemptionLedger
{
    public static async Task<IReadOnlyList<string>> ProblemsAsync(HlmHubDbContext db, CancellationToken cancellationToken)
    {
        var redemptions = await db.Redemptions.AsNoTracking().ToListAsync(cancellationToken);
        var transactions = await db.LedgerTransactions.AsNoTracking().Include(transaction => transaction.Entries).ToListAsync(cancellationToken);
        var byKey = transactions.ToLookup(transaction => transaction.IdempotencyKey, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var redemption in redemptions.Where(redemption => redemption.Kind == RedemptionKind.Redemption))
        {
            var booked = byKey[IdempotencyKeys.Redemption(redemption.Id)].ToList();
            var mustBook = redemption.Outcome == RedemptionOutcome.Accepted && redemption.ComputedDiscount > Money.Zero;
            if (!mustBook)
            {
                if (booked.Count != 0)
                {
                    problems.Add($"{Describe(redemption)} is {redemption.Outcome} with discount {redemption.ComputedDiscount} but has {booked.Count} ledger transaction(s)");
                }

                continue;
            }

            if (booked.Count != 1)
            {
                problems.Add($"{Describe(redemption)} has {booked.Count} ledger transactions, not 1");
                continue;
            }

            var transaction = booked[0];
            var debits = Sum(transaction.Entries, EntrySide.Debit);
            var credits = Sum(transaction.Entries, EntrySide.Credit);
            var granted = transaction.Entries.Where(entry => entry.Side == EntrySide.Debit && entry.AccountId == LedgerAccount.IdFor(redemption.ClubId!, AccountKind.DiscountsGranted, redemption.PartnerId)).Sum(entry => entry.Amount.Cents);
            var savings = transaction.Entries.Where(entry => entry.Side == EntrySide.Credit && entry.AccountId == LedgerAccount.IdFor(redemption.ClubId!, AccountKind.TenantSavings)).Sum(entry => entry.Amount.Cents);
            if (transaction.Kind != TransactionKind.Redemption || transaction.Entries.Count is not (2 or 4) || debits != credits
                || granted != redemption.ComputedDiscount.Cents || savings != redemption.ComputedDiscount.Cents || transaction.Period != redemption.Period)
            {
                problems.Add($"{Describe(redemption)}: its ledger transaction {transaction.Id} ({transaction.Kind}, {transaction.Period}) has {transaction.Entries.Count} entries, " +
                    $"debits {debits}, credits {credits}, discounts granted {granted}, tenant savings {savings}");
            }
        }

        var redemptionKeys = redemptions.Select(redemption => IdempotencyKeys.Redemption(redemption.Id)).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(transactions
            .Where(transaction => transaction.Kind == TransactionKind.Redemption && !redemptionKeys.Contains(transaction.IdempotencyKey))
            .Select(transaction => $"ledger transaction {transaction.Id} ({transaction.IdempotencyKey}) has no redemption"));
        problems.AddRange(transactions
            .Where(transaction => Sum(transaction.Entries, EntrySide.Debit) != Sum(transaction.Entries, EntrySide.Credit) || transaction.Entries.Count < 2)
            .Select(transaction => $"ledger transaction {transaction.Id} ({transaction.IdempotencyKey}) does not balance"));
        var allEntries = transactions.SelectMany(transaction => transaction.Entries).ToList();
        if (Sum(allEntries, EntrySide.Debit) != Sum(allEntries, EntrySide.Credit))
        {
            problems.Add($"the ledger does not balance: debits {Sum(allEntries, EntrySide.Debit)}, credits {Sum(allEntries, EntrySide.Credit)}");
        }

        return problems;
    }

    private static long Sum(IEnumerable<LedgerEntry> entries, EntrySide side) => entries.Where(entry => entry.Side == side).Sum(entry => entry.Amount.Cents);

    private static string Describe(Redemption redemption) => $"redemption {redemption.Id} (event {redemption.PartnerEventId} of {redemption.PartnerId})";
}
