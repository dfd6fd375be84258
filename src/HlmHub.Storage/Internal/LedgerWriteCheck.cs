using HlmHub.Domain.Ledger;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace HlmHub.Storage.Internal;

/// <summary>
/// The write-time half of the ledger invariants (the database triggers refuse updates and deletes; this refuses
/// what a trigger cannot see row by row): every entry saved belongs to a transaction added in the same save, and
/// each such transaction's saved entries are exactly its entries and balance.
/// </summary>
internal static class LedgerWriteCheck
{
    public static void Verify(ChangeTracker changeTracker)
    {
        var addedTransactions = new Dictionary<Guid, LedgerTransaction>();
        var addedEntries = new List<LedgerEntry>();
        foreach (var entry in changeTracker.Entries())
        {
            switch (entry.Entity)
            {
                case LedgerTransaction transaction:
                    RefuseChange(entry, "transaction");
                    if (entry.State == EntityState.Added)
                    {
                        addedTransactions.Add(transaction.Id, transaction);
                    }

                    break;
                case LedgerEntry ledgerEntry:
                    RefuseChange(entry, "entry");
                    if (entry.State == EntityState.Added)
                    {
                        addedEntries.Add(ledgerEntry);
                    }

                    break;
            }
        }

        foreach (var group in addedEntries.GroupBy(entry => entry.TransactionId))
        {
            if (!addedTransactions.TryGetValue(group.Key, out var transaction))
            {
                throw new LedgerIntegrityException(
                    $"Ledger entries can only be added with a new transaction; transaction {group.Key} already exists.");
            }

            if (group.Count() != transaction.Entries.Count || group.Any(entry => !transaction.Entries.Contains(entry)))
            {
                throw new LedgerIntegrityException($"Transaction {transaction.Id} is saved with entries that are not its own.");
            }
        }

        foreach (var transaction in addedTransactions.Values)
        {
            VerifyBalanced(transaction);
        }
    }

    /// <summary>A new transaction has at least two entries, all its own, and they balance.</summary>
    public static void VerifyBalanced(LedgerTransaction transaction)
    {
        if (transaction.Entries.Count < 2 || !LedgerRules.IsBalanced(transaction.Entries.Select(entry => (entry.Side, entry.Amount))))
        {
            throw new LedgerIntegrityException(
                $"Transaction {transaction.Id} ({transaction.IdempotencyKey}) does not balance: debits must equal credits.");
        }

        if (transaction.Entries.Any(entry => entry.TransactionId != transaction.Id))
        {
            throw new LedgerIntegrityException($"Transaction {transaction.Id} is saved with entries that are not its own.");
        }
    }

    private static void RefuseChange(EntityEntry entry, string what)
    {
        if (entry.State is EntityState.Modified or EntityState.Deleted)
        {
            throw new LedgerIntegrityException(
                $"The ledger is append-only: a {what} cannot be {(entry.State == EntityState.Deleted ? "deleted" : "updated")}; book a reversal.");
        }
    }
}
