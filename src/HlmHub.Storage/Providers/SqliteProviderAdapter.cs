using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Providers;

/// <summary>SQLite: the embedded default, one file in the data directory, write-ahead logging.</summary>
internal sealed class SqliteProviderAdapter : StorageProviderAdapter
{
    public const string EfProviderName = "Microsoft.EntityFrameworkCore.Sqlite";

    public static readonly SqliteProviderAdapter Instance = new();

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override void UseDatabase(DbContextOptionsBuilder builder, string connectionString)
    {
        builder.UseSqlite(connectionString);
    }

    // SQLITE_CONSTRAINT (19) with the extended codes SQLITE_CONSTRAINT_PRIMARYKEY (1555) and _UNIQUE (2067).
    public override bool IsUniqueViolation(Exception error) =>
        error is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 1555 or 2067 };

    public override async Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken)
    {
        var connectionString = context.Database.GetConnectionString() ?? "";
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (!string.IsNullOrEmpty(dataSource) && dataSource != ":memory:")
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }
        }

        // WAL lets readers run while one writer writes; the mode is stored in the file, so setting it once is enough.
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    public override void CreateAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table)
    {
        foreach (var operation in new[] { "UPDATE", "DELETE" })
        {
            migrationBuilder.Sql(
                $"CREATE TRIGGER {Quote(TriggerName(table, operation))} BEFORE {operation} ON {Quote(table)} " +
                $"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END;");
        }
    }

    public override void DropAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table)
    {
        foreach (var operation in new[] { "UPDATE", "DELETE" })
        {
            migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {Quote(TriggerName(table, operation))};");
        }
    }

    public override void CreateImmutableOnceReferencedTrigger(
        MigrationBuilder migrationBuilder,
        string table,
        IReadOnlyList<string> keyColumns,
        string referencingTable,
        IReadOnlyList<string> referencingColumns)
    {
        var condition = ReferenceCondition(keyColumns, referencingTable, referencingColumns);
        foreach (var operation in new[] { "UPDATE", "DELETE" })
        {
            migrationBuilder.Sql(
                $"CREATE TRIGGER {Quote(GuardName(table, operation))} BEFORE {operation} ON {Quote(table)} " +
                $"WHEN {condition} " +
                $"BEGIN SELECT RAISE(ABORT, '{table} row is referenced by {referencingTable}: {operation} refused'); END;");
        }
    }

    public override void DropImmutableOnceReferencedTrigger(MigrationBuilder migrationBuilder, string table)
    {
        foreach (var operation in new[] { "UPDATE", "DELETE" })
        {
            migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {Quote(GuardName(table, operation))};");
        }
    }

    private static string TriggerName(string table, string operation) => $"TR_{table}_AppendOnly_{operation}";

    private static string GuardName(string table, string operation) => $"TR_{table}_Immutable_{operation}";
}
