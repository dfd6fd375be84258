using Npgsql;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>The database a hub under test runs on.</summary>
internal enum TestProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Where a hub under test keeps its data: always a fresh temporary data directory (credentials files, SQLite
/// file, member-token key) and, for PostgreSQL, a fresh database on the server named by HLMHUB_TEST_POSTGRES,
/// dropped on dispose.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "HLMHUB_TEST_POSTGRES";

    private readonly string? _postgresAdminConnectionString;
    private readonly string? _postgresDatabaseName;

    private TestDatabase(TestProvider provider, string dataDirectory, string? adminConnectionString, string? databaseName)
    {
        Provider = provider;
        DataDirectory = dataDirectory;
        _postgresAdminConnectionString = adminConnectionString;
        _postgresDatabaseName = databaseName;
    }

    public TestProvider Provider { get; }

    public string DataDirectory { get; }

    /// <summary>The configuration the hub needs for this database, as command-line arguments.</summary>
    public IReadOnlyList<string> HubArguments => _postgresDatabaseName is null
        ? [$"--Storage:DataDirectory={DataDirectory}"]
        :
        [
            $"--Storage:DataDirectory={DataDirectory}",
            "--Storage:Provider=Postgres",
            "--ConnectionStrings:HlmHub=" + new NpgsqlConnectionStringBuilder(_postgresAdminConnectionString) { Database = _postgresDatabaseName }.ConnectionString,
        ];

    public static async Task<TestDatabase> CreateAsync(TestProvider provider)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        if (provider == TestProvider.Sqlite)
        {
            return new TestDatabase(provider, dataDirectory, null, null);
        }

        var adminConnectionString = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(adminConnectionString))
        {
            throw new InvalidOperationException(
                $"{PostgresVariable} is not set: the PostgreSQL tests need a server. Run them through tools/test.sh, " +
                "or `source tools/postgres.sh; postgres_start` in the same shell before `dotnet test`.");
        }

        var databaseName = "hlmhub_server_test_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync().DefaultTimeout();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName}\"", admin);
            await create.ExecuteNonQueryAsync().DefaultTimeout();
        }

        return new TestDatabase(provider, dataDirectory, adminConnectionString, databaseName);
    }

    public async ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }

        if (_postgresDatabaseName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_postgresAdminConnectionString);
            await admin.OpenAsync().DefaultTimeout();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresDatabaseName}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync().DefaultTimeout();
        }
    }
}
