using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations.Sqlite.Invariants;

/// <summary>
/// The SQLite half of the invariants the Initial migration installs (docs/storage.md, "A ledger that every
/// database defends"). Shipped SQL: never edit it, add a new migration instead.
/// </summary>
internal static class InitialGuards
{
    private static readonly string[] AppendOnlyTables = ["LedgerTransactions", "LedgerEntries", "PeriodClosures", "LedgerBalanceSeals"];

    public static void Create(MigrationBuilder migrationBuilder)
    {
        // Append-only: UPDATE and DELETE refused (SQLite has no TRUNCATE; DELETE without WHERE fires the trigger).
        // The seal table is created first so its own triggers can be installed with the others.
        CreateBalanceTables(migrationBuilder);
        foreach (var table in AppendOnlyTables)
        {
            foreach (var operation in new[] { "UPDATE", "DELETE" })
            {
                migrationBuilder.Sql(
                    $"CREATE TRIGGER \"TR_{table}_AppendOnly_{operation}\" BEFORE {operation} ON \"{table}\" " +
                    $"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END;");
            }
        }

        // A redeemed offer version is immutable: the redemption's discount was computed from it.
        foreach (var operation in new[] { "UPDATE", "DELETE" })
        {
            migrationBuilder.Sql(
                $"CREATE TRIGGER \"TR_OfferVersions_ImmutableOnceRedeemed_{operation}\" BEFORE {operation} ON \"OfferVersions\" " +
                "WHEN EXISTS (SELECT 1 FROM \"Redemptions\" WHERE \"Redemptions\".\"OfferId\" = OLD.\"OfferId\" " +
                "AND \"Redemptions\".\"OfferVersion\" = OLD.\"Version\") " +
                $"BEGIN SELECT RAISE(ABORT, 'OfferVersions row is referenced by Redemptions: {operation} refused'); END;");
        }

        // Nothing is booked into a closed month: late events are adjustments in the open month.
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerTransactions_OpenPeriodOnly\" BEFORE INSERT ON \"LedgerTransactions\" " +
            "WHEN EXISTS (SELECT 1 FROM \"PeriodClosures\" WHERE \"PeriodClosures\".\"ClubId\" = NEW.\"ClubId\" " +
            "AND \"PeriodClosures\".\"Period\" = NEW.\"Period\") " +
            "BEGIN SELECT RAISE(ABORT, 'LedgerTransactions: the period is closed for this club; book it in the open month'); END;");
    }

    /// <summary>
    /// A transaction's entries balance, checked when the database transaction commits. SQLite has no deferred
    /// triggers, but it has deferred foreign keys, checked at COMMIT: every ledger transaction gets a seal row
    /// (trigger on insert) whose deferred foreign key requires a proof row, and a proof row can only be inserted
    /// while the transaction's entries number at least two and balance. Each new entry withdraws the proof and
    /// reinstates it only if the entries still balance. So a commit that leaves any transaction unbalanced, or
    /// without entries, fails with a foreign-key violation, whatever SQL wrote it. Seals are append-only. This
    /// needs foreign keys enforced, which EF Core turns on for every connection it opens (PRAGMA foreign_keys=ON);
    /// a raw sqlite3 shell must turn them on too, as for every other foreign key.
    /// </summary>
    private static void CreateBalanceTables(MigrationBuilder migrationBuilder)
    {
        const string balanced =
            "(SELECT COUNT(*) >= 2 AND SUM(CASE WHEN \"Side\" = 'Debit' THEN \"Amount\" ELSE -\"Amount\" END) = 0 " +
            "FROM \"LedgerEntries\" WHERE \"LedgerEntries\".\"TransactionId\" = NEW.\"TransactionId\")";

        migrationBuilder.Sql(
            "CREATE TABLE \"LedgerBalanceProofs\" (\"TransactionId\" TEXT NOT NULL CONSTRAINT \"PK_LedgerBalanceProofs\" PRIMARY KEY);");
        migrationBuilder.Sql(
            "CREATE TABLE \"LedgerBalanceSeals\" (\"TransactionId\" TEXT NOT NULL CONSTRAINT \"PK_LedgerBalanceSeals\" PRIMARY KEY " +
            "CONSTRAINT \"FK_LedgerBalanceSeals_LedgerBalanceProofs\" REFERENCES \"LedgerBalanceProofs\" (\"TransactionId\") " +
            "DEFERRABLE INITIALLY DEFERRED);");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerBalanceProofs_OnlyWhenBalanced\" BEFORE INSERT ON \"LedgerBalanceProofs\" " +
            $"WHEN NOT {balanced} " +
            "BEGIN SELECT RAISE(ABORT, 'LedgerEntries: a ledger transaction must have at least two entries and balance (debits = credits)'); END;");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerBalanceProofs_NoUpdate\" BEFORE UPDATE ON \"LedgerBalanceProofs\" " +
            "BEGIN SELECT RAISE(ABORT, 'LedgerBalanceProofs cannot be updated'); END;");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerTransactions_Seal\" AFTER INSERT ON \"LedgerTransactions\" " +
            "BEGIN INSERT INTO \"LedgerBalanceSeals\" (\"TransactionId\") VALUES (NEW.\"Id\"); END;");
        migrationBuilder.Sql(
            "CREATE TRIGGER \"TR_LedgerEntries_Balanced\" AFTER INSERT ON \"LedgerEntries\" BEGIN " +
            "DELETE FROM \"LedgerBalanceProofs\" WHERE \"TransactionId\" = NEW.\"TransactionId\"; " +
            $"INSERT INTO \"LedgerBalanceProofs\" (\"TransactionId\") SELECT NEW.\"TransactionId\" WHERE {balanced}; END;");
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        // Dropping a table drops its triggers; the guards on the model's tables go with the tables in Down().
        migrationBuilder.Sql("DROP TABLE IF EXISTS \"LedgerBalanceSeals\";");
        migrationBuilder.Sql("DROP TABLE IF EXISTS \"LedgerBalanceProofs\";");
    }
}
