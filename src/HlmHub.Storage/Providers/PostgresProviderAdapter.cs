using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Providers;

/// <summary>PostgreSQL through Npgsql: the server database for several hub instances.</summary>
internal sealed class PostgresProviderAdapter : StorageProviderAdapter
{
    public static readonly PostgresProviderAdapter Instance = new();

    public override StorageProvider Provider => StorageProvider.Postgres;

    public override string MigrationsAssembly => "HlmHub.Storage.Migrations.Postgres";

    public override void UseDatabase(DbContextOptionsBuilder builder, string connectionString)
    {
        builder.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly));
    }

    public override bool IsUniqueViolation(Exception error) =>
        error is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    // Npgsql's own judgement: a broken or refused connection, a command time-out, and the server's transient states
    // (serialization failure, deadlock, too many connections, shutting down, lock not available...).
    public override bool IsTransient(Exception error) => error is Npgsql.NpgsqlException { IsTransient: true };

    // The guard raises restrict_violation (23001), as the offer-version guard does: told apart by the function that raised
    // it (InitialGuards of the PostgreSQL migrations), which PostgreSQL names in the error's context.
    public override bool IsPeriodClosed(Exception error) =>
        error is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.RestrictViolation } postgres
        && (postgres.Where?.Contains("FN_LedgerTransactions_OpenPeriodOnly", StringComparison.Ordinal) == true
            || postgres.MessageText.StartsWith("LedgerTransactions: period ", StringComparison.Ordinal));

    // The server and the database are provisioned by the operator; EF Core creates the database if it may.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
