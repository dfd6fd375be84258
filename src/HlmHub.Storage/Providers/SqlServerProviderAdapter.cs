using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Providers;

/// <summary>Microsoft SQL Server: the landlords' usual server database, often with DBA-applied schema scripts.</summary>
internal sealed class SqlServerProviderAdapter : StorageProviderAdapter
{
    public static readonly SqlServerProviderAdapter Instance = new();

    public override StorageProvider Provider => StorageProvider.SqlServer;

    public override string MigrationsAssembly => "HlmHub.Storage.Migrations.SqlServer";

    public override void UseDatabase(DbContextOptionsBuilder builder, string connectionString)
    {
        // MinBatchSize 1: EF Core then sends a ledger transaction's entries as one multi-row INSERT even when there are
        // only two of them, which is what the statement-level balance trigger of the SQL Server migration checks (its
        // default of 4 would insert two entries with two statements, and the first would be refused as unbalanced).
        builder.UseSqlServer(connectionString, sqlServer => sqlServer.MigrationsAssembly(MigrationsAssembly).MinBatchSize(1));
    }

    // 2627: violation of a PRIMARY KEY or UNIQUE constraint; 2601: duplicate key row in a unique index.
    public override bool IsUniqueViolation(Exception error) =>
        error is SqlException { Number: 2627 or 2601 };

    // Chosen as a deadlock victim (1205), a lock request time-out (1222), the client's command time-out (-2). SqlClient
    // does not set DbException.IsTransient. Not run against a live server here (docs/storage.md).
    public override bool IsTransient(Exception error) => error is SqlException { Number: 1205 or 1222 or -2 };

    // sqlcmd, the documented way to run the script, starts its sessions with QUOTED_IDENTIFIER OFF unless given -I.
    // The model's check constraints and index filters are written with standard double-quoted names (the same SQL for
    // every provider), which it would read as string literals: "Side" IN ('Debit', 'Credit') would refuse every ledger
    // entry, "Amount" > 0 fail to convert, and each filtered unique index (OpenIddict's too) fail with Msg 1934. In a
    // batch of its own: SQL Server compiles a batch before running it, so the setting applies from the next batch on,
    // and to the statements the script runs through EXEC. docs/storage.md, "For the DBA".
    public override string ScriptPreamble { get; } = $"SET QUOTED_IDENTIFIER ON;{Environment.NewLine}GO{Environment.NewLine}{Environment.NewLine}";

    // The closed-month guard's own error number (THROW 51002 in InitialGuards of the SQL Server migrations). Not run
    // against a live server here (docs/storage.md).
    public override bool IsPeriodClosed(Exception error) => error is SqlException { Number: 51002 };

    // The server and the database are provisioned by the DBA.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
