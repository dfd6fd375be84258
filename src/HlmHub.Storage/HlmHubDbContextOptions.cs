using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HlmHub.Storage;

/// <summary>
/// How a <see cref="HlmHubDbContext"/> is configured for a provider: the same code for the hub
/// (<see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>) and for <c>dotnet ef</c>, whose design-time
/// factories in the migrations projects call it, so generated migrations see exactly the model the hub runs.
/// </summary>
public static class HlmHubDbContextOptions
{
    /// <summary>Configures <paramref name="builder"/> for <paramref name="provider"/> and its migrations assembly.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, StorageProvider provider, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        StorageProviderAdapter.For(provider).UseDatabase(builder, connectionString);
        // A failed command is not necessarily an error of the hub: a unique index refusing the loser of a race (two
        // retries of one fee payment) is an expected outcome the caller turns into an answer, and a fresh PostgreSQL
        // database has no migrations history table for EF's first probe. EF logs such failures at Warning; a failure
        // nobody handles still reaches the transport, which logs it as an error. Pending model changes are NOT
        // ignored: EF Core refuses to migrate when the model has changes no migration covers.
        builder.ConfigureWarnings(warnings => warnings
            .Log((RelationalEventId.CommandError, LogLevel.Warning), (CoreEventId.SaveChangesFailed, LogLevel.Warning)));
        return builder;
    }

    /// <summary>Options for a context on <paramref name="provider"/> (tools, tests, design time).</summary>
    public static DbContextOptions<HlmHubDbContext> Create(StorageProvider provider, string connectionString) =>
        (DbContextOptions<HlmHubDbContext>)Configure(new DbContextOptionsBuilder<HlmHubDbContext>(), provider, connectionString).Options;
}
