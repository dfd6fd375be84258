using HlmHub.Domain;
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

    // FOR UPDATE is the one row lock that conflicts with FOR KEY SHARE (the bookings' side, below). A no-op UPDATE
    // (RowLocks.LockClubAsync) would not do: it takes FOR NO KEY UPDATE, which lets FOR KEY SHARE through.
    public override async Task LockClubForClosingAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"Clubs\" WHERE \"Id\" = {clubId} FOR UPDATE", cancellationToken);

    // FOR KEY SHARE: the weakest row lock, the one a foreign-key check takes (so any booking takes it anyway, at the
    // end of its first insert referring to the club); concurrent bookings share it, and it conflicts only with FOR
    // UPDATE, the close's. Taken here, by the read that comes before the closed months are read, instead of by the
    // insert: a booking then either holds it before a close locks the club (the close waits, and its dry run sees the
    // booking), or waits for the close to commit and then reads its closure. In id order, so two multi-club bookings
    // meeting two closes cannot deadlock on each other.
    public override async Task<List<Club>> ReadClubsForBookingAsync(HlmHubDbContext db, IReadOnlyCollection<string> clubIds, CancellationToken cancellationToken)
    {
        var ids = clubIds.ToArray();
        return await db.Clubs.FromSql($"SELECT * FROM \"Clubs\" WHERE \"Id\" = ANY({ids}) ORDER BY \"Id\" FOR KEY SHARE")
            .AsNoTracking()
            .ToListAsync(cancellationToken);
    }

    // The server and the database are provisioned by the operator; EF Core creates the database if it may.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
