using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace HlmHub.Storage;

/// <summary>
/// A transaction that only reads, so that every query of a long read (a month's reconciliation) sees the database as
/// of one instant, without holding back the writers that commit meanwhile.
/// </summary>
public static class ReadSnapshots
{
    /// <summary>
    /// Begins the snapshot on <paramref name="db"/>; dispose the result to end it. Null on SQL Server, where a repeatable
    /// read would lock every row read until the end: there the reads see committed data (docs/reconciliation.md).
    /// </summary>
    public static async Task<IAsyncDisposable?> BeginAsync(HlmHubDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (db.Database.IsSqlServer())
        {
            return null;
        }

        if (!db.Database.IsSqlite())
        {
            // PostgreSQL: a repeatable read is a snapshot that takes no lock a writer waits for.
            return await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        }

        // Microsoft.Data.Sqlite begins every other transaction with BEGIN IMMEDIATE, which takes SQLite's one write
        // lock: a long read would stop every redemption, roster and fee commit until it ended. A deferred transaction
        // takes no lock until it writes, and in WAL mode its first read fixes the snapshot its later reads see.
        await db.Database.OpenConnectionAsync(cancellationToken);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        var used = await db.Database.UseTransactionAsync(transaction, cancellationToken)
            ?? throw new InvalidOperationException("EF Core did not take the snapshot's transaction.");
        return new SqliteSnapshot(db, used, transaction);
    }

    private sealed class SqliteSnapshot(HlmHubDbContext db, IDbContextTransaction used, SqliteTransaction transaction) : IAsyncDisposable
    {
        // In this order: EF Core's wrapper lets go of the transaction and undoes the opening it made when it took it
        // (not owning the transaction, it leaves it open); the transaction then ends (a read: rolled back); last the
        // opening made above.
        public async ValueTask DisposeAsync()
        {
            await used.DisposeAsync();
            await transaction.DisposeAsync();
            await db.Database.CloseConnectionAsync();
        }
    }
}
