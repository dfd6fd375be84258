using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Reconciliation.Tests;

/// <summary>
/// One migrated database per test class, reached through the production registrations (AddHlmHubStorage,
/// AddHlmHubReconciliation). Each test crafts its own club in it, so tests never see each other's months.
/// </summary>
public abstract class ReconciliationDatabase(StorageProvider provider) : IAsyncLifetime
{
    private EmptyDatabase? _database;
    private ServiceProvider? _services;

    public ReconciliationEngine Engine => Services.GetRequiredService<ReconciliationEngine>();

    public IDbContextFactory<HlmHubDbContext> Contexts => Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

    private ServiceProvider Services => _services ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        var cancellationToken = TestTimeouts.Token();
        _database = await EmptyDatabase.CreateAsync(provider, cancellationToken);
        var settings = _database.Settings;
        // Small batches so the paged paths run several pages even on a crafted month.
        settings["Reconciliation:BatchSize"] = "2";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        _services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddHlmHubStorage(configuration)
            .AddHlmHubReconciliation()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await _services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(cancellationToken);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

public sealed class SqliteReconciliationDatabase() : ReconciliationDatabase(StorageProvider.Sqlite);

public sealed class PostgresReconciliationDatabase() : ReconciliationDatabase(StorageProvider.Postgres);
