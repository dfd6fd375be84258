using System.Data.Common;
using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.TestSupport;

/// <summary>
/// Holds the hub's writes to one table from a transaction of the test's own, while its reads go on. PostgreSQL: a SHARE
/// lock on the table, which an INSERT into it waits on (before its triggers and foreign-key checks run), and which no
/// read waits on. SQLite: the file's one write lock (<c>BEGIN IMMEDIATE</c>), which every write transaction of the hub
/// waits on at its <c>BEGIN</c>, whatever table it writes. Releasing (rollback) lets the waiting writers go on.
/// </summary>
public sealed class WriteHold : IAsyncDisposable
{
    private readonly StorageProvider _provider;
    private readonly string _connectionString;
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private bool _ended;

    private WriteHold(StorageProvider provider, string connectionString, DbConnection connection, DbTransaction transaction)
    {
        _provider = provider;
        _connectionString = connectionString;
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<WriteHold> BeginAsync(StorageProvider provider, string connectionString, string table)
    {
        DbConnection connection = provider switch
        {
            StorageProvider.Sqlite => new SqliteConnection(connectionString),
            StorageProvider.Postgres => new NpgsqlConnection(connectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "SQLite and PostgreSQL only."),
        };
        await connection.OpenAsync().DefaultTimeout();
        // Microsoft.Data.Sqlite begins with BEGIN IMMEDIATE: the write lock is taken now.
        var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        if (provider == StorageProvider.Postgres)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"LOCK TABLE \"{table}\" IN SHARE MODE";
            await command.ExecuteNonQueryAsync(TestTimeouts.Token());
        }

        return new WriteHold(provider, connectionString, connection, transaction);
    }

    /// <summary>
    /// PostgreSQL: whether a session of this database is waiting on a lock while running a statement containing
    /// <paramref name="statementContaining"/>. SQLite cannot tell who waits for its write lock: null.
    /// </summary>
    public async Task<bool?> SomeoneWaitsAsync(string statementContaining)
    {
        if (_provider != StorageProvider.Postgres)
        {
            return null;
        }

        // A connection of its own: pg_stat_activity keeps one snapshot per transaction.
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, @statement) > 0",
            connection);
        command.Parameters.AddWithValue("statement", statementContaining);
        return (long)(await command.ExecuteScalarAsync().DefaultTimeout())! > 0;
    }

    /// <summary>Runs <paramref name="sql"/> in the hold's transaction (a write of the test's own, committed by <see cref="CommitAsync"/>).</summary>
    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
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

    /// <summary>Ends the hold (rollback): the waiting writers go on.</summary>
    public async Task ReleaseAsync()
    {
        _ended = true;
        await _transaction.RollbackAsync(TestTimeouts.Token());
    }

    /// <summary>Ends the hold keeping what <see cref="ExecuteAsync"/> wrote (commit): the waiting writers go on.</summary>
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
}
