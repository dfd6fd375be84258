using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations.Sqlite.Invariants;

/// <summary>
/// What the migration AppendOnlyRowsNeverReplaced adds to <see cref="InitialGuards"/> (docs/storage.md, "A ledger
/// that every database defends"). Shipped SQL: never edit it, add a new migration instead.
/// <para>
/// <c>REPLACE INTO</c> (<c>INSERT OR REPLACE</c>) resolves a key conflict by deleting the existing row and inserting
/// the new one, and that implicit delete fires no <c>DELETE</c> trigger (unless <c>PRAGMA recursive_triggers</c> is
/// on, which is per connection and off by default). So the append-only <c>BEFORE DELETE</c> triggers let a
/// committed ledger entry or month closure be rewritten in place. A <c>BEFORE INSERT</c> trigger runs before the
/// conflict is resolved: it refuses any insert whose key is already there, whatever conflict clause the statement
/// carries.
/// </para>
/// <para>
/// Ledger transactions and redeemed offer versions need no such trigger: rows in other tables reference them
/// (every committed transaction has entries, a redeemed version has redemptions) through <c>ON DELETE RESTRICT</c>
/// foreign keys, and the implicit delete of a <c>REPLACE</c> fails on those. The balance tables hold nothing a
/// replace could change (one key column; a proof is only accepted while its transaction balances).
/// </para>
/// </summary>
internal static class ReplaceGuards
{
    /// <summary>The tables guarded here, with the columns of their primary key.</summary>
    private static readonly (string Table, string[] Key)[] Tables =
    [
        ("LedgerEntries", ["TransactionId", "Line"]),
        ("PeriodClosures", ["ClubId", "Period"]),
    ];

    public static void Create(MigrationBuilder migrationBuilder)
    {
        foreach (var (table, key) in Tables)
        {
            // The look-up is by the whole primary key (its unique index): one index probe per inserted row, which the
            // key's own uniqueness check then repeats on a page already in the cache.
            var sameKey = string.Join(" AND ", key.Select(column => $"\"{table}\".\"{column}\" = NEW.\"{column}\""));
            // The message starts as SQLite's own for a duplicate key, and SqliteProviderAdapter.IsUniqueViolation
            // recognises it: a plain INSERT of a key that exists (two administrators closing one month at once) now
            // fails here, before SQLite's own check, and callers must still see the unique violation they handle.
            var columns = string.Join(", ", key.Select(column => $"{table}.{column}"));
            migrationBuilder.Sql(
                $"CREATE TRIGGER \"TR_{table}_NeverReplaced\" BEFORE INSERT ON \"{table}\" " +
                $"WHEN EXISTS (SELECT 1 FROM \"{table}\" WHERE {sameKey}) " +
                $"BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: {columns} ({table} is append-only: an existing row is never replaced)'); END;");
        }
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        foreach (var (table, _) in Tables)
        {
            migrationBuilder.Sql($"DROP TRIGGER IF EXISTS \"TR_{table}_NeverReplaced\";");
        }
    }
}
