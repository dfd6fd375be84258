using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Providers;

/// <summary>PostgreSQL through Npgsql: the server database for several hub instances.</summary>
internal sealed class PostgresProviderAdapter : StorageProviderAdapter
{
    public const string EfProviderName = "Npgsql.EntityFrameworkCore.PostgreSQL";

    public static readonly PostgresProviderAdapter Instance = new();

    public override StorageProvider Provider => StorageProvider.Postgres;

    public override void UseDatabase(DbContextOptionsBuilder builder, string connectionString)
    {
        builder.UseNpgsql(connectionString);
    }

    public override bool IsUniqueViolation(Exception error) =>
        error is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    // The server and the database are provisioned by the operator; EF Core creates the database if it may.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public override void CreateAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table)
    {
        var function = FunctionName(table, "AppendOnly");
        migrationBuilder.Sql(
            $"CREATE FUNCTION {Quote(function)}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            $"RAISE EXCEPTION '{table} is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation'; END $$;");
        migrationBuilder.Sql(
            $"CREATE TRIGGER {Quote(TriggerName(table, "AppendOnly"))} BEFORE UPDATE OR DELETE ON {Quote(table)} " +
            $"FOR EACH ROW EXECUTE FUNCTION {Quote(function)}();");
    }

    public override void DropAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table)
    {
        migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {Quote(TriggerName(table, "AppendOnly"))} ON {Quote(table)};");
        migrationBuilder.Sql($"DROP FUNCTION IF EXISTS {Quote(FunctionName(table, "AppendOnly"))}();");
    }

    public override void CreateImmutableOnceReferencedTrigger(
        MigrationBuilder migrationBuilder,
        string table,
        IReadOnlyList<string> keyColumns,
        string referencingTable,
        IReadOnlyList<string> referencingColumns)
    {
        var condition = ReferenceCondition(keyColumns, referencingTable, referencingColumns);
        var function = FunctionName(table, "Immutable");
        migrationBuilder.Sql(
            $"CREATE FUNCTION {Quote(function)}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
            $"IF {condition} THEN RAISE EXCEPTION '{table} row is referenced by {referencingTable}: % refused', TG_OP " +
            "USING ERRCODE = 'restrict_violation'; END IF; " +
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$;");
        migrationBuilder.Sql(
            $"CREATE TRIGGER {Quote(TriggerName(table, "Immutable"))} BEFORE UPDATE OR DELETE ON {Quote(table)} " +
            $"FOR EACH ROW EXECUTE FUNCTION {Quote(function)}();");
    }

    public override void DropImmutableOnceReferencedTrigger(MigrationBuilder migrationBuilder, string table)
    {
        migrationBuilder.Sql($"DROP TRIGGER IF EXISTS {Quote(TriggerName(table, "Immutable"))} ON {Quote(table)};");
        migrationBuilder.Sql($"DROP FUNCTION IF EXISTS {Quote(FunctionName(table, "Immutable"))}();");
    }

    private static string TriggerName(string table, string purpose) => $"TR_{table}_{purpose}";

    private static string FunctionName(string table, string purpose) => $"FN_{table}_{purpose}";
}
