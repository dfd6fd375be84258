using HlmHub.Storage;
using HlmHub.TestSupport;

namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>
/// One migrated database per test class (xunit class fixture), on the provider of the subclass. The SQL Server
/// fixture creates nothing without <c>HLMHUB_TEST_SQLSERVER</c>: reading <see cref="Database"/> then skips the test,
/// with the reason in the test output.
/// </summary>
public abstract class MigratedDatabaseFixture(StorageProvider provider) : IAsyncLifetime
{
    private TestDatabase? _database;

    public StorageProvider Provider => provider;

    public TestDatabase Database
    {
        get
        {
            if (provider == StorageProvider.SqlServer)
            {
                _ = TestDatabaseServers.SqlServer;
            }

            return _database ?? throw new InvalidOperationException("The fixture is not initialised.");
        }
    }

    public async Task InitializeAsync()
    {
        if (provider == StorageProvider.SqlServer && !TestDatabaseServers.SqlServerAvailable)
        {
            return;
        }

        var cancellationToken = TestTimeouts.Token();
        _database = await TestDatabase.CreateAsync(provider, cancellationToken);
        await _database.Migrator.MigrateAsync(cancellationToken);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

public sealed class SqliteDatabaseFixture() : MigratedDatabaseFixture(StorageProvider.Sqlite);

public sealed class PostgresDatabaseFixture() : MigratedDatabaseFixture(StorageProvider.Postgres);

public sealed class SqlServerDatabaseFixture() : MigratedDatabaseFixture(StorageProvider.SqlServer);
