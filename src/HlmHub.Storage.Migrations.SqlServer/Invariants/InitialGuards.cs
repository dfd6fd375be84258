using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations.SqlServer.Invariants;

/// <summary>
/// The SQL Server half of the invariants the Initial migration installs (docs/storage.md, "A ledger that every
/// database defends"). CREATE TRIGGER must be the first statement of its batch, and EF Core's idempotent script puts
/// each operation inside IF NOT EXISTS (...) BEGIN ... END: so every trigger is created through EXEC (see
/// <see cref="Batch"/>), which is valid both in the script and when the hub migrates. The model declares these triggers (HasTrigger), so EF Core never writes to these tables with
/// an OUTPUT clause. Errors are raised with THROW, which inside a trigger ends the batch and rolls the transaction
/// back. Shipped SQL: never edit it, add a new migration instead.
/// </summary>
internal static class InitialGuards
{
    private static readonly string[] AppendOnlyTables = ["LedgerTransactions", "LedgerEntries", "PeriodClosures"];

    public static void Create(MigrationBuilder migrationBuilder)
    {
        // Append-only: UPDATE and DELETE refused. TRUNCATE fires no trigger on SQL Server; it needs ALTER permission
        // on the table, which the hub's login does not have when the DBA applies the schema (docs/storage.md).
        foreach (var table in AppendOnlyTables)
        {
            migrationBuilder.Sql(Batch(
                $"CREATE TRIGGER [dbo].[TR_{table}_AppendOnly] ON [dbo].[{table}] AFTER UPDATE, DELETE AS\n" +
                "BEGIN\n" +
                "    SET NOCOUNT ON;\n" +
                "    IF NOT EXISTS (SELECT 1 FROM deleted) RETURN;\n" +
                $"    THROW 51000, N'{table} is append-only: UPDATE and DELETE are refused', 1;\n" +
                "END;"));
        }

        // A transaction's entries balance. SQL Server has no deferred triggers, so the rule is: a transaction's
        // entries arrive together, in one INSERT statement, and balance when it ends. EF Core sends them that way
        // (one multi-row INSERT per save; the adapter sets MinBatchSize 1 so two entries are not split), and raw
        // SQL must too. An entry added later to an existing transaction unbalances it and is refused.
        migrationBuilder.Sql(Batch(
            "CREATE TRIGGER [dbo].[TR_LedgerEntries_Balanced] ON [dbo].[LedgerEntries] AFTER INSERT AS\n" +
            "BEGIN\n" +
            "    SET NOCOUNT ON;\n" +
            "    IF EXISTS (\n" +
            "        SELECT 1 FROM [dbo].[LedgerEntries] AS e\n" +
            "        WHERE e.[TransactionId] IN (SELECT i.[TransactionId] FROM inserted AS i)\n" +
            "        GROUP BY e.[TransactionId]\n" +
            "        HAVING COUNT(*) < 2 OR SUM(CASE WHEN e.[Side] = N'Debit' THEN e.[Amount] ELSE -e.[Amount] END) <> 0)\n" +
            "    THROW 51001, N'LedgerEntries: a ledger transaction must have at least two entries, inserted in one statement, and balance (debits = credits)', 1;\n" +
            "END;"));

        // Nothing is booked into a closed month: late events are adjustments in the open month.
        migrationBuilder.Sql(Batch(
            "CREATE TRIGGER [dbo].[TR_LedgerTransactions_OpenPeriodOnly] ON [dbo].[LedgerTransactions] AFTER INSERT AS\n" +
            "BEGIN\n" +
            "    SET NOCOUNT ON;\n" +
            "    IF EXISTS (\n" +
            "        SELECT 1 FROM inserted AS i\n" +
            "        JOIN [dbo].[PeriodClosures] AS c ON c.[ClubId] = i.[ClubId] AND c.[Period] = i.[Period])\n" +
            "    THROW 51002, N'LedgerTransactions: the period is closed for this club; book it in the open month', 1;\n" +
            "END;"));

        // A redeemed offer version is immutable: the redemption's discount was computed from it.
        migrationBuilder.Sql(Batch(
            "CREATE TRIGGER [dbo].[TR_OfferVersions_ImmutableOnceRedeemed] ON [dbo].[OfferVersions] AFTER UPDATE, DELETE AS\n" +
            "BEGIN\n" +
            "    SET NOCOUNT ON;\n" +
            "    IF EXISTS (\n" +
            "        SELECT 1 FROM deleted AS d\n" +
            "        JOIN [dbo].[Redemptions] AS r ON r.[OfferId] = d.[OfferId] AND r.[OfferVersion] = d.[Version])\n" +
            "    THROW 51003, N'OfferVersions row is referenced by Redemptions: UPDATE and DELETE are refused', 1;\n" +
            "END;"));
    }

    /// <summary>Runs <paramref name="statement"/> as a batch of its own, wherever the script places it.</summary>
    private static string Batch(string statement) =>
        "EXEC(N'" + statement.Replace("'", "''", StringComparison.Ordinal) + "');";

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        // Triggers are dropped with their tables in Down(); nothing else to remove.
        _ = migrationBuilder;
    }
}
