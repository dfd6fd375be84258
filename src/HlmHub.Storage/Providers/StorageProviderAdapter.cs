using HlmHub.Domain;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Providers;

/// <summary>
/// Everything that differs between database providers at run time lives in one small adapter per provider: how
/// the context connects (and which assembly holds that provider's generated migrations), what to prepare before
/// migrating, and how the provider reports a unique violation. Provider-specific DDL (triggers, guards) lives in
/// the generated migrations of each provider's migrations project, never here.
/// </summary>
internal abstract class StorageProviderAdapter
{
    public abstract StorageProvider Provider { get; }

    /// <summary>The assembly holding this provider's generated migrations (<c>src/HlmHub.Storage.Migrations.*</c>).</summary>
    public abstract string MigrationsAssembly { get; }

    public static IReadOnlyList<StorageProviderAdapter> All { get; } =
        [SqliteProviderAdapter.Instance, PostgresProviderAdapter.Instance, SqlServerProviderAdapter.Instance];

    public static StorageProviderAdapter For(StorageProvider provider) => provider switch
    {
        StorageProvider.Sqlite => SqliteProviderAdapter.Instance,
        StorageProvider.Postgres => PostgresProviderAdapter.Instance,
        StorageProvider.SqlServer => SqlServerProviderAdapter.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown storage provider."),
    };

    /// <summary>The adapter of the provider <paramref name="db"/> runs on.</summary>
    public static StorageProviderAdapter Of(HlmHubDbContext db) =>
        db.Database.IsSqlite() ? SqliteProviderAdapter.Instance
        : db.Database.IsNpgsql() ? PostgresProviderAdapter.Instance
        : db.Database.IsSqlServer() ? SqlServerProviderAdapter.Instance
        : throw new InvalidOperationException($"Unsupported database provider {db.Database.ProviderName}.");

    /// <summary>
    /// Takes the closing side of the club's month lock (<c>RowLocks.LockClubForClosingAsync</c>) in the context's
    /// transaction: it waits for every transaction that took the booking side to end, and holds off any new one until
    /// this transaction ends.
    /// </summary>
    public abstract Task LockClubForClosingAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the clubs <paramref name="clubIds"/> (untracked) taking the booking side of their month lock
    /// (<c>RowLocks.ReadClubsForBookingAsync</c>): shared with other bookings, excluded by a close.
    /// </summary>
    public abstract Task<List<Club>> ReadClubsForBookingAsync(HlmHubDbContext db, IReadOnlyCollection<string> clubIds, CancellationToken cancellationToken);

    /// <summary>Points the context at the database and at this provider's migrations assembly.</summary>
    public abstract void UseDatabase(DbContextOptionsBuilder builder, string connectionString);

    /// <summary>Runs before migrations are applied (outside any transaction).</summary>
    public abstract Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken);

    /// <summary>Whether this exception (not its inner ones) is this provider's unique-constraint violation.</summary>
    public abstract bool IsUniqueViolation(Exception error);

    /// <summary>
    /// Whether this exception (not its inner ones) says the database could not serve the statement now but may on a
    /// retry: busy or locked past the command time-out, chosen as a deadlock victim, unreachable, out of connections.
    /// </summary>
    public abstract bool IsTransient(Exception error);

    /// <summary>
    /// Whether this exception (not its inner ones) is this provider's closed-month guard refusing a ledger transaction
    /// (<c>TR_LedgerTransactions_OpenPeriodOnly</c>, created by the migrations' <c>InitialGuards</c>).
    /// </summary>
    public abstract bool IsPeriodClosed(Exception error);

    /// <summary>
    /// What the idempotent script (<c>--migrations-script</c>) begins with, before EF Core's migrations: the session
    /// settings the script's SQL needs from whichever tool the DBA runs it with. Empty unless the provider needs one.
    /// </summary>
    public virtual string ScriptPreamble => "";
}
