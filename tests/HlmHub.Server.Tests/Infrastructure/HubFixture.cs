namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>One hub per test class over a fresh database of <see cref="Provider"/>, with its hub administrator.</summary>
public abstract class HubFixture : IAsyncLifetime
{
    private TestDatabase? _database;
    private HubHost? _hub;
    private AdminClient? _hubAdmin;

    internal abstract TestProvider Provider { get; }

    internal HubHost Hub => _hub ?? throw new InvalidOperationException("The hub has not started.");

    /// <summary>The bootstrap hub administrator (from bootstrap-admin.json).</summary>
    internal AdminClient HubAdmin => _hubAdmin ?? throw new InvalidOperationException("The hub has not started.");

    /// <summary>The fixture's database, for a test that starts a second hub instance on it.</summary>
    internal TestDatabase Database => _database ?? throw new InvalidOperationException("The hub has not started.");

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Provider);
        _hub = await HubHost.StartAsync(_database);
        _hubAdmin = await _hub.HubAdminAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_hub is not null)
            {
                await _hub.DisposeAsync();
            }
        }
        finally
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }
}

/// <summary>The hub on a SQLite file.</summary>
public sealed class SqliteHubFixture : HubFixture
{
    internal override TestProvider Provider => TestProvider.Sqlite;
}

/// <summary>The hub on PostgreSQL (HLMHUB_TEST_POSTGRES); fails, never skips, when the variable is missing.</summary>
public sealed class PostgresHubFixture : HubFixture
{
    internal override TestProvider Provider => TestProvider.Postgres;
}
