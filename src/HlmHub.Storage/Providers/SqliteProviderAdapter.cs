using HlmHub.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Providers;

/// <summary>SQLite: the embedded default, one file in the data directory, write-ahead logging.</summary>
internal sealed class SqliteProviderAdapter : StorageProviderAdapter
{
    public static readonly SqliteProviderAdapter Instance = new();

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override string MigrationsAssembly => "HlmHub.Storage.Migrations.Sqlite";

    public override void UseDatabase(DbContextOptionsBuilder builder, string connectionString)
    {
        // A list in a query (ids.Contains(x.Id)) goes as one JSON parameter, not EF Core 10's default of one parameter
        // per item: Microsoft.Data.Sqlite binds each parameter by name, and SQLite finds a name by scanning the
        // statement's names, a cost growing with the square of the list (a redemption batch looks up 500 member
        // tokens at once). docs/storage.md.
        builder.UseSqlite(connectionString, sqlite => sqlite
                .MigrationsAssembly(MigrationsAssembly)
                .UseParameterizedCollectionMode(ParameterTranslationMode.Parameter))
            .AddInterceptors(SqliteConnectionSettings.Instance);
    }

    // SQLITE_CONSTRAINT (19) with the extended codes SQLITE_CONSTRAINT_PRIMARYKEY (1555) and _UNIQUE (2067), or
    // _TRIGGER (1811) from the triggers that refuse an existing key before SQLite checks it, so that REPLACE INTO can
    // never rewrite an append-only row (ledger entries, month closures: migration AppendOnlyRowsNeverReplaced). They
    // word their message as SQLite's own, since a plain INSERT of an existing key (a lost race) now fails there.
    public override bool IsUniqueViolation(Exception error) =>
        error is SqliteException { SqliteErrorCode: 19 } sqlite
        && (sqlite.SqliteExtendedErrorCode is 1555 or 2067
            || (sqlite.SqliteExtendedErrorCode == 1811 && sqlite.Message.Contains(UniqueViolationMessage, StringComparison.Ordinal)));

    // SQLITE_BUSY (5) and SQLITE_LOCKED (6): another connection held the file's write lock for longer than the command
    // time-out (Microsoft.Data.Sqlite retries until then). Microsoft.Data.Sqlite does not set DbException.IsTransient.
    public override bool IsTransient(Exception error) => error is SqliteException { SqliteErrorCode: 5 or 6 };

    // RAISE(ABORT, ...) in a trigger is SQLITE_CONSTRAINT_TRIGGER (1811), whichever trigger raised it: the guard is told
    // apart by its message (InitialGuards of the SQLite migrations).
    public override bool IsPeriodClosed(Exception error) =>
        error is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 1811 } sqlite
        && sqlite.Message.Contains(PeriodClosedMessage, StringComparison.Ordinal);

    // SQLite has one writer at a time, and every transaction the hub writes in begins with BEGIN IMMEDIATE
    // (Microsoft.Data.Sqlite's default), which takes that lock at once: a close and a booking exclude each other from
    // their first statement. The no-op update makes sure of it even in a transaction begun deferred.
    public override async Task LockClubForClosingAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken) =>
        await RowLocks.LockClubAsync(db, clubId, cancellationToken);

    // Nothing to add: the booking's transaction holds the file's write lock since its BEGIN IMMEDIATE.
    public override async Task<List<Club>> ReadClubsForBookingAsync(HlmHubDbContext db, IReadOnlyCollection<string> clubIds, CancellationToken cancellationToken) =>
        await db.Clubs.AsNoTracking().Where(club => clubIds.Contains(club.Id)).ToListAsync(cancellationToken);

    /// <summary>How the SQLite closed-month guard words its refusal.</summary>
    private const string PeriodClosedMessage = "LedgerTransactions: the period is closed for this club";

    /// <summary>How SQLite words a duplicate key, and the append-only triggers with it.</summary>
    private const string UniqueViolationMessage = "UNIQUE constraint failed: ";

    public override async Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken)
    {
        var connectionString = context.Database.GetConnectionString() ?? "";
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (!string.IsNullOrEmpty(dataSource) && dataSource != ":memory:")
        {
            var path = Path.GetFullPath(dataSource);
            try
            {
                var directory = Path.GetDirectoryName(path);
                if (!string.IsNullOrEmpty(directory))
                {
                    PrivateDirectory.Create(directory);
                }

                CreateOwnerOnly(path);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // A setting the operator chose, not a bug: said as a configuration error naming it (the host's
                // ConfigurationErrors reads "Setting:Name ..." messages), instead of the runtime's crash report.
                throw new InvalidOperationException(
                    $"Storage:DataDirectory (or the Data Source of ConnectionStrings:HlmHub) must be a directory the hub can create and write: {path} cannot be created ({error.Message.TrimEnd('.')}).",
                    error);
            }
        }

        // WAL lets readers run while one writer writes; the mode is stored in the file, so setting it once is enough.
        // (Opening creates the -wal and -shm files with the database file's mode.)
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

    /// <summary>
    /// A new database file is created empty, readable by its owner only, before SQLite opens it: SQLite would create it
    /// 0644 (umask permitting), and its -wal and -shm files take the database file's mode. The files then stay private
    /// even if the data directory is opened to others later. An empty file is an empty database to SQLite.
    /// </summary>
    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }

        try
        {
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created meanwhile by another process: SQLite opens that one.
        }
    }
}
