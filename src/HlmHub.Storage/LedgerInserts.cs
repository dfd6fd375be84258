using HlmHub.Domain.Ledger;
using HlmHub.Storage.Internal;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage;

/// <summary>
/// Books many new ledger transactions with multi-row inserts (<see cref="BulkInsert"/>), for the redemption group
/// commit: the write-time checks of <c>SaveChanges</c> still apply (each transaction has at least two entries, all
/// its own, and they balance), and the database's guards still see every row. SQL Server checks a transaction's
/// balance at the end of each INSERT statement (it has no deferred checks), so a transaction's entries always go in
/// one statement: statements are cut between transactions, never inside one.
/// </summary>
public static class LedgerInserts
{
    /// <summary>
    /// Inserts <paramref name="transactions"/> and then their entries, in the context's current transaction. The
    /// ledger accounts they post to must exist (or have been saved) first. A failure is a
    /// <see cref="DbUpdateException"/>; an unbalanced transaction is a <see cref="LedgerIntegrityException"/> and
    /// writes nothing.
    /// </summary>
    public static async Task InsertLedgerTransactionsAsync(this HlmHubDbContext db, IReadOnlyList<LedgerTransaction> transactions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(transactions);
        foreach (var transaction in transactions)
        {
            LedgerWriteCheck.VerifyBalanced(transaction);
        }

        await db.InsertAllAsync(transactions, cancellationToken);
        await db.InsertStatementsAsync([.. EntryStatements(transactions, BulkInsert.RowsPerStatement<LedgerEntry>(db))], cancellationToken);
    }

    /// <summary>
    /// The entries of <paramref name="transactions"/> cut into statements of at most <paramref name="rowsPerStatement"/>
    /// rows, each holding whole transactions only (a transaction never has more entries than
    /// <see cref="HlmHub.Domain.Limits.MaxEntriesPerTransaction"/>, far below a statement's rows).
    /// </summary>
    public static IEnumerable<IReadOnlyList<LedgerEntry>> EntryStatements(IReadOnlyList<LedgerTransaction> transactions, int rowsPerStatement)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        var statement = new List<LedgerEntry>(rowsPerStatement);
        foreach (var transaction in transactions)
        {
            if (transaction.Entries.Count > rowsPerStatement)
            {
                throw new LedgerIntegrityException(
                    $"Transaction {transaction.Id} has {transaction.Entries.Count} entries, more than one statement carries ({rowsPerStatement}).");
            }

            if (statement.Count + transaction.Entries.Count > rowsPerStatement)
            {
                yield return statement;
                statement = new List<LedgerEntry>(rowsPerStatement);
            }

            statement.AddRange(transaction.Entries);
        }

        if (statement.Count > 0)
        {
            yield return statement;
        }
    }
}
