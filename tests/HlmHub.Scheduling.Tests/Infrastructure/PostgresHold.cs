using Npgsql;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// Holds a job in place on PostgreSQL without touching the hub: a transaction of the test's locks one ledger account
/// row (FOR UPDATE), so the job's first posting to that account waits on the foreign-key check while everything before
/// it commits. Releasing (rollback) lets whoever is waiting go on.
/// </summary>
internal sealed class PostgresHold : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private PostgresHold(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<PostgresHold> LockAccountAsync(string connectionString, string accountId)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        var transaction = await connection.BeginTransactionAsync(TestTimeouts.Token());
        await using var command = new NpgsqlCommand("SELECT \"Id\" FROM \"LedgerAccounts\" WHERE \"Id\" = @id FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue("id", accountId);
        Assert.Equal(accountId, await command.ExecuteScalarAsync().DefaultTimeout());
        return new PostgresHold(connection, transaction);
    }

    /// <summary>Waits until some session of this database is waiting on a lock (the held job).</summary>
    public async Task WaitUntilSomeoneWaitsAsync()
    {
        var deadline = TimeProvider.System.GetUtcNow() + TestTimeouts.Default;
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", _connection, _transaction);
            if ((long)(await command.ExecuteScalarAsync().DefaultTimeout())! > 0)
            {
                return;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "No session started waiting on the held account.");
            await Task.Delay(100);
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
        Assert.Equal(1, await command.ExecuteNonQueryAsync().DefaultTimeout());
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
