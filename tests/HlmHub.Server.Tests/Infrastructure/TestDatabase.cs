using HlmHub.Storage;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>The database a hub under test runs on.</summary>
internal enum TestProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Where a hub under test keeps its data: a fresh <see cref="EmptyDatabase"/> (a SQLite file, or a new PostgreSQL
/// database on the server named by HLMHUB_TEST_POSTGRES) and its data directory (credentials files, member-token
/// key), handed to the hub as command-line arguments.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly EmptyDatabase _database;

    private TestDatabase(TestProvider provider, EmptyDatabase database)
    {
        Provider = provider;
        _database = database;
        // As the hub creates it (0700): a test hub logs no warning about its mode.
        PrivateDirectory.Create(database.DataDirectory);
    }

    public TestProvider Provider { get; }

    public string DataDirectory => _database.DataDirectory;

    /// <summary>The database's connection string, for a test that holds a lock in it (<see cref="PostgresHold"/>).</summary>
    public string ConnectionString => _database.ConnectionString;

    /// <summary>The configuration the hub needs for this database, as command-line arguments.</summary>
    public IReadOnlyList<string> HubArguments =>
        [.. _database.Settings.Where(setting => setting.Value is not null).Select(setting => $"--{setting.Key}={setting.Value}")];

    public static async Task<TestDatabase> CreateAsync(TestProvider provider) =>
        new(provider, await EmptyDatabase.CreateAsync(
            provider == TestProvider.Sqlite ? StorageProvider.Sqlite : StorageProvider.Postgres, TestTimeouts.Token()));

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
