using System.Data.Common;
using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.TestSupport;

/// <summary>
/// Closes a club's month from a connection of the test's own while a writer is between reading the closed months and
/// booking: the hold's transaction inserts the month's <c>PeriodClosures</c> row and, until it commits, keeps every
/// ledger booking waiting (SQLite: it holds the file's write lock, <c>BEGIN IMMEDIATE</c>; PostgreSQL: a SHARE lock on
/// <c>LedgerTransactions</c>, which an INSERT waits on before its triggers run). A writer that read the closed months
/// meanwhile read the month as open (the closure is not committed); <see cref="CommitAsync"/> then lets its booking go
/// on into the month just closed, which the database's closed-month guard refuses.
/// </summary>
public sealed class MonthClosingHold : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private bool _ended;

    private MonthClosingHold(DbConnection connection, DbTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>Begins closing <paramref name="periodKey"/> (yyyyMM) of <paramref name="clubId"/>, holding ledger bookings.</summary>
    public static async Task<MonthClosingHold> BeginAsync(StorageProvider provider, string connectionString, string clubId, int periodKey)
    {
        DbConnection connection = provider switch
        {
            StorageProvider.Sqlite => new SqliteConnection(connectionString),
            StorageProvider.Postgres => new NpgsqlConnection(connectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "SQLite and PostgreSQL only."),
        };
        await connection.OpenAsync().DefaultTimeout();
        // Microsoft.Data.Sqlite begins with BEGIN IMMEDIATE: the write lock is taken now, not at the insert.
        var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        if (provider == StorageProvider.Postgres)
        {
            await ExecuteAsync(connection, transaction, "LOCK TABLE \"LedgerTransactions\" IN SHARE MODE", []);
        }

        await ExecuteAsync(connection, transaction, "INSERT INTO \"PeriodClosures\" (\"ClubId\", \"Period\", \"ClosedAt\") VALUES (@club, @period, @closedAt)",
            [("club", clubId), ("period", periodKey), ("closedAt", TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds())]);
        return new MonthClosingHold(connection, transaction);
    }

    /// <summary>Commits the closure: the held bookings go on.</summary>
    public async Task CommitAsync()
    {
        _ended = true;
        await _transaction.CommitAsync(TestTimeouts.Token());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_ended && _connection.State == System.Data.ConnectionState.Open)
        {
            await _transaction.RollbackAsync();
        }

        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        await command.ExecuteNonQueryAsync(TestTimeouts.Token());
    }
}
