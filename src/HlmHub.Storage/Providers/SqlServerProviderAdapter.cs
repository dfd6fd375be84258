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

    // The server and the database are provisioned by the DBA.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
