using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database for one provider, reached through the production registration
/// (<see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>): a SQLite file in a temporary directory,
/// or a new PostgreSQL database on the server named by HLMHUB_TEST_POSTGRES, dropped on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "HLMHUB_TEST_POSTGRES";

    private readonly string? _temporaryDirectory;
    private readonly string? _postgresAdminConnectionString;
    private readonly string? _postgresDatabaseName;

    private TestDatabase(
        StorageProvider provider,
        ServiceProvider services,
        string? temporaryDirectory,
        string? postgresAdminConnectionString,
        string? postgresDatabaseName)
    {
        Provider = provider;
        Services = services;
        _temporaryDirectory = temporaryDirectory;
        _postgresAdminConnectionString = postgresAdminConnectionString;
        _postgresDatabaseName = postgresDatabaseName;
    }

    public StorageProvider Provider { get; }

    public ServiceProvider Services { get; }

    public IDbContextFactory<HlmHubDbContext> ContextFactory => Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

    public IDatabaseMigrator Migrator => Services.GetRequiredService<IDatabaseMigrator>();

    public string? DataDirectory => _temporaryDirectory;

    public static async Task<TestDatabase> CreateAsync(StorageProvider provider, CancellationToken cancellationToken)
    {
        if (provider == StorageProvider.Sqlite)
        {
            var directory = Path.Combine(Path.GetTempPath(), "hlmhub-storage-tests-" + Guid.NewGuid().ToString("N"));
            // The data directory is deliberately missing: the storage layer must create it.
            var configuration = new Dictionary<string, string?>
            {
                ["Storage:Provider"] = "Sqlite",
                ["Storage:DataDirectory"] = Path.Combine(directory, "data"),
            };
            return new TestDatabase(provider, BuildServices(configuration), directory, null, null);
        }

        var adminConnectionString = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrWhiteSpace(adminConnectionString))
        {
            throw new InvalidOperationException(
                $"{PostgresVariable} is not set: the PostgreSQL tests need a server. Run them through tools/test.sh, " +
                "or `source tools/postgres.sh; postgres_start` in the same shell before `dotnet test`.");
        }

        var databaseName = "hlmhub_test_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName}\"", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = databaseName }.ConnectionString;
        var postgresConfiguration = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:HlmHub"] = connectionString,
        };
        return new TestDatabase(provider, BuildServices(postgresConfiguration), null, adminConnectionString, databaseName);
    }

    /// <summary>What the migrator does for SQLite, for tests that build a database without it.</summary>
    public void CreateDataDirectory()
    {
        var options = Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageOptions>>().Value;
        if (Provider == StorageProvider.Sqlite)
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
    }

    public async Task<HlmHubDbContext> CreateContextAsync(CancellationToken cancellationToken) =>
        await ContextFactory.CreateDbContextAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_temporaryDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_temporaryDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless.
            }
        }

        if (_postgresAdminConnectionString is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_postgresAdminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresDatabaseName}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static ServiceProvider BuildServices(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddHlmHubStorage(configuration).BuildServiceProvider();
    }
}
