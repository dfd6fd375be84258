using HlmHub.Storage;
using HlmHub.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Storage.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database (<see cref="EmptyDatabase"/>) reached through the production registration
/// (<see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly EmptyDatabase _database;

    private TestDatabase(EmptyDatabase database)
    {
        _database = database;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build();
        Services = new ServiceCollection().AddHlmHubStorage(configuration).BuildServiceProvider();
    }

    public StorageProvider Provider => _database.Provider;

    public ServiceProvider Services { get; }

    public IDbContextFactory<HlmHubDbContext> ContextFactory => Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();

    public IDatabaseMigrator Migrator => Services.GetRequiredService<IDatabaseMigrator>();

    public string DataDirectory => _database.DataDirectory;

    /// <summary>The database's own connection string, for tests that write raw SQL without EF Core.</summary>
    public string ConnectionString => _database.ConnectionString;

    public static async Task<TestDatabase> CreateAsync(StorageProvider provider, CancellationToken cancellationToken) =>
        new(await EmptyDatabase.CreateAsync(provider, cancellationToken));

    public async Task<HlmHubDbContext> CreateContextAsync(CancellationToken cancellationToken) =>
        await ContextFactory.CreateDbContextAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await _database.DisposeAsync();
    }
}
