using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// The test's own view of a database that hub processes write: the production storage registration on the same
/// settings, so the audit reads what the hubs stored through the same mapping, from outside any hub.
/// </summary>
internal sealed class AuditDatabase(ServiceProvider services) : IAsyncDisposable
{
    public static AuditDatabase For(EmptyDatabase database)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build();
        return new AuditDatabase(new ServiceCollection().AddHlmHubStorage(configuration).AddSingleton(TimeProvider.System).AddLogging().BuildServiceProvider());
    }

    public Task<HlmHubDbContext> CreateDbContextAsync(CancellationToken cancellationToken) =>
        services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        // Releases a SQLite file, as a restarted hub or the database's disposal expects to find it.
        SqliteConnection.ClearAllPools();
        return services.DisposeAsync();
    }
}
