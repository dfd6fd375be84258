using HlmHub.Storage;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.TestSupport;

/// <summary>
/// A fresh, empty database for one provider, and a fresh temporary data directory beside it: a SQLite file in that
/// directory (created by the storage layer, which must create the directory itself), or a new database on the
/// PostgreSQL or SQL Server named by <see cref="TestDatabaseServers"/>. Dropped, and the directory deleted, on
/// dispose. It hands out configuration, so tests reach the database through the production registration.
/// </summary>
public sealed class EmptyDatabase : IAsyncDisposable
{
    private readonly string _temporaryDirectory;
    private readonly string? _serverConnectionString;

    private EmptyDatabase(StorageProvider provider, string temporaryDirectory, string connectionString, string? serverConnectionString, string? databaseName)
    {
        Provider = provider;
        _temporaryDirectory = temporaryDirectory;
        DataDirectory = Path.Combine(temporaryDirectory, "data");
        ConnectionString = connectionString;
        _serverConnectionString = serverConnectionString;
        DatabaseName = databaseName;
    }

    public StorageProvider Provider { get; }

    /// <summary>The data directory (missing until something creates it).</summary>
    public string DataDirectory { get; }

    /// <summary>The connection string of the new database (for SQLite, the file in <see cref="DataDirectory"/>).</summary>
    public string ConnectionString { get; }

    /// <summary>The server-side database name (null for SQLite).</summary>
    public string? DatabaseName { get; }

    /// <summary>The storage settings for this database, as the hub reads them.</summary>
    public Dictionary<string, string?> Settings => new()
    {
        ["Storage:Provider"] = Provider.ToString(),
        ["Storage:DataDirectory"] = DataDirectory,
        ["ConnectionStrings:HlmHub"] = Provider == StorageProvider.Sqlite ? null : ConnectionString,
    };

    public static async Task<EmptyDatabase> CreateAsync(StorageProvider provider, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "hlmhub-tests-" + Guid.NewGuid().ToString("N"));
        var databaseName = "hlmhub_test_" + Guid.NewGuid().ToString("N");
        switch (provider)
        {
            case StorageProvider.Sqlite:
                return new EmptyDatabase(provider, directory, $"Data Source={Path.Combine(directory, "data", StorageOptions.DefaultSqliteFileName)}", null, null);
            case StorageProvider.Postgres:
            {
                var server = TestDatabaseServers.Postgres;
                await using var admin = new NpgsqlConnection(server);
                await admin.OpenAsync(cancellationToken);
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName}\"", admin);
                await create.ExecuteNonQueryAsync(cancellationToken);
                var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = databaseName }.ConnectionString;
                return new EmptyDatabase(provider, directory, connectionString, server, databaseName);
            }

            case StorageProvider.SqlServer:
            {
                var server = TestDatabaseServers.SqlServer;
                await using var admin = new SqlConnection(server);
                await admin.OpenAsync(cancellationToken);
                await using var create = new SqlCommand($"CREATE DATABASE [{databaseName}]", admin);
                await create.ExecuteNonQueryAsync(cancellationToken);
                var connectionString = new SqlConnectionStringBuilder(server) { InitialCatalog = databaseName }.ConnectionString;
                return new EmptyDatabase(provider, directory, connectionString, server, databaseName);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown provider.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        switch (Provider)
        {
            case StorageProvider.Sqlite:
                SqliteConnection.ClearAllPools();
                break;
            case StorageProvider.Postgres:
            {
                NpgsqlConnection.ClearAllPools();
                await using var admin = new NpgsqlConnection(_serverConnectionString);
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                break;
            }

            case StorageProvider.SqlServer:
            {
                SqlConnection.ClearAllPools();
                await using var admin = new SqlConnection(_serverConnectionString);
                await admin.OpenAsync();
                await using var drop = new SqlCommand(
                    $"ALTER DATABASE [{DatabaseName}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{DatabaseName}];", admin);
                await drop.ExecuteNonQueryAsync();
                break;
            }
        }

        try
        {
            if (Directory.Exists(_temporaryDirectory))
            {
                Directory.Delete(_temporaryDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}
