using Npgsql;

namespace HlmHub.TestSupport;

/// <summary>
/// Holds a job or an rpc in place on PostgreSQL without touching the hub: a transaction of the test's locks one row
/// (FOR UPDATE), a ledger account or a club, so the first write that refers to it waits on the foreign-key check while
/// everything before it commits. Releasing (rollback) lets whoever is waiting go on.
/// </summary>
public sealed class PostgresHold : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    // The sessions of this database waiting on a row lock, Quartz's own excepted: in a cluster the nodes wait on each
    // other's qrtz_locks rows for a moment, which is not the held job.
    private const string WaitingOnALock =
        "datname = current_database() AND wait_event_type = 'Lock' AND strpos(lower(query), 'qrtz_') = 0";

    private PostgresHold(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static Task<PostgresHold> LockAccountAsync(string connectionString, string accountId) =>
        LockRowAsync(connectionString, "LedgerAccounts", accountId);

    /// <summary>
    /// Locks a club's row: a reconciliation run of that club waits when it records itself (on the monthly job's lock of
    /// the row, or on the ReconciliationRuns.ClubId foreign-key check), after its reads and after the runs of the clubs
    /// before it have committed.
    /// </summary>
    public static Task<PostgresHold> LockClubAsync(string connectionString, string clubId) =>
        LockRowAsync(connectionString, "Clubs", clubId);

    /// <summary>Locks a contract's row: a change to the contract, or the booking of its fee, waits on it.</summary>
    public static Task<PostgresHold> LockContractAsync(string connectionString, string contractId) =>
        LockRowAsync(connectionString, "Contracts", contractId);

    private static async Task<PostgresHold> LockRowAsync(string connectionString, string table, string id)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        await using var command = new NpgsqlCommand($"SELECT \"Id\" FROM \"{table}\" WHERE \"Id\" = @id FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue("id", id);
        // Support code, not a test: a missing row is the calling test's mistake, said as such.
        if (!Equals(id, await command.ExecuteScalarAsync().DefaultTimeout()))
        {
            throw new InvalidOperationException($"No row '{id}' in {table} to hold.");
        }
        return new PostgresHold(connection, transaction);
    }

    /// <summary>
    /// Waits until some session of this database is waiting on a lock (the held job), or, given
    /// <paramref name="statementContaining"/>, a session running such a statement. Sessions waiting on Quartz's own
    /// tables do not count: in a cluster the nodes wait on each other's row locks (qrtz_locks) for a moment.
    /// </summary>
    public Task WaitUntilSomeoneWaitsAsync(string? statementContaining = null) =>
        Poll.UntilAsync(
            async () =>
            {
                // PostgreSQL keeps one snapshot of pg_stat_activity for a whole transaction: drop it, or every poll
                // sees the sessions as they were at the first one.
                await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", _connection, _transaction))
                {
                    await clear.ExecuteNonQueryAsync().DefaultTimeout();
                }

                await using var command = new NpgsqlCommand(
                    $"SELECT count(*) FROM pg_stat_activity WHERE {WaitingOnALock} AND (@statement = '' OR strpos(query, @statement) > 0)", _connection, _transaction);
                command.Parameters.AddWithValue("statement", statementContaining ?? "");
                return (long)(await command.ExecuteScalarAsync().DefaultTimeout())! > 0;
            },
            "for a session to wait on the held row");

    /// <summary>
    /// Cancels the statements waiting on the held row (<c>pg_cancel_backend</c>): each fails at once with SQLSTATE
    /// 57014, as a statement time-out or an administrator's cancel would, without waiting for either.
    /// </summary>
    public async Task CancelWaitersAsync()
    {
        await using var command = new NpgsqlCommand(
            $"SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE {WaitingOnALock}", _connection, _transaction);
        if ((long)(await command.ExecuteScalarAsync().DefaultTimeout())! == 0)
        {
            throw new InvalidOperationException("No waiting statement to cancel.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.State == System.Data.ConnectionState.Open)
        {
            await _transaction.RollbackAsync();
        }

        await _connection.DisposeAsync();
    }

    /// <summary>Makes a dead node look dead at once, as Quartz's own fail-over tests do, instead of waiting out its check-in threshold.</summary>
    public static async Task BackdateCheckinAsync(string connectionString, string instanceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand(
            "UPDATE qrtz_scheduler_state SET last_checkin_time = last_checkin_time - @minutes WHERE instance_name = @instance", connection);
        command.Parameters.AddWithValue("minutes", TimeSpan.FromMinutes(10).Ticks);
        command.Parameters.AddWithValue("instance", instanceId);
        if (await command.ExecuteNonQueryAsync().DefaultTimeout() != 1)
        {
            throw new InvalidOperationException($"No Quartz instance '{instanceId}' checked in to backdate.");
        }
    }

    /// <summary>The Quartz instances checked in to this database's cluster.</summary>
    public static async Task<List<string>> ClusterNodesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand("SELECT instance_name FROM qrtz_scheduler_state ORDER BY instance_name", connection);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var nodes = new List<string>();
        while (await reader.ReadAsync())
        {
            nodes.Add(reader.GetString(0));
        }

        return nodes;
    }
}
