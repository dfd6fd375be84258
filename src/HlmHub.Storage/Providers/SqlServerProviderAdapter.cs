using System.Text;
using HlmHub.Domain;
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
    // 51003: the club's month lock was not granted (ClubLockSql: a time-out or a deadlock victim).
    public override bool IsTransient(Exception error) => error is SqlException { Number: 1205 or 1222 or -2 or ClubLockRefused };

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

    /// <summary>The error the club lock's batch throws when <c>sp_getapplock</c> does not grant it.</summary>
    private const int ClubLockRefused = 51003;

    // An application lock per club (sp_getapplock, owned by the transaction), not a row lock: the close's dry run reads
    // the club's row on another connection at read committed, and a row lock of the close would block its own dry run.
    // An application lock blocks nobody's reads. Proven offline only (SqlServerScriptTests parses this SQL).
    public override async Task LockClubForClosingAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(ClubLockSql(1, "Exclusive"), [new SqlParameter("@club0", ClubLockResource(clubId))], cancellationToken);

    // Shared between bookings, excluded by a close's Exclusive; in id order, so bookings and closes cannot deadlock.
    public override async Task<List<Club>> ReadClubsForBookingAsync(HlmHubDbContext db, IReadOnlyCollection<string> clubIds, CancellationToken cancellationToken)
    {
        var ordered = clubIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (ordered.Count > 0)
        {
            await db.Database.ExecuteSqlRawAsync(
                ClubLockSql(ordered.Count, "Shared"),
                ordered.Select((id, index) => (object)new SqlParameter($"@club{index}", ClubLockResource(id))),
                cancellationToken);
        }

        return await db.Clubs.AsNoTracking().Where(club => clubIds.Contains(club.Id)).ToListAsync(cancellationToken);
    }

    /// <summary>The batch that takes <paramref name="count"/> club locks (parameters <c>@club0</c>...) in <paramref name="mode"/>.</summary>
    internal static string ClubLockSql(int count, string mode)
    {
        var sql = new StringBuilder("DECLARE @granted int;\n");
        for (var index = 0; index < count; index++)
        {
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"EXEC @granted = sp_getapplock @Resource = @club{index}, @LockMode = N'{mode}', @LockOwner = N'Transaction';\n");
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"IF @granted < 0 THROW {ClubLockRefused}, N'The club''s month lock was not granted (time-out or deadlock): retry.', 1;\n");
        }

        return sql.ToString();
    }

    private static string ClubLockResource(string clubId) => "hlmhub/club-month/" + clubId;

    // The server and the database are provisioned by the DBA.
    public override Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
