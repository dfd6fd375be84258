using HlmHub.Storage;

namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>One migrated database per test class (xunit class fixture), on the provider of the subclass.</summary>
public abstract class MigratedDatabaseFixture(StorageProvider provider) : IAsyncLifetime
{
    private TestDatabase? _database;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        var cancellationToken = TestTimeout.Token();
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
