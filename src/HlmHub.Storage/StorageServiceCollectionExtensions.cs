using HlmHub.Storage.Internal;
using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Storage;

/// <summary>Registers HlmHub's storage in a service collection.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HlmHubDbContext"/> (scoped) and <see cref="IDbContextFactory{HlmHubDbContext}"/>
    /// (singleton, for singletons such as the token issuer), <see cref="IOptions{StorageOptions}"/> and
    /// <see cref="IDatabaseMigrator"/> and <see cref="HlmHub.Domain.MemberTokenGenerator"/> (key from
    /// <see cref="MemberTokenKeys"/>), reading <c>Storage:Provider</c> (<c>Sqlite</c> by default, or
    /// <c>Postgres</c>), <c>Storage:DataDirectory</c> (default <c>./data</c>) and <c>ConnectionStrings:HlmHub</c>
    /// (for SQLite, by default the file <c>hlmhub.db</c> in the data directory).
    /// </summary>
    public static IServiceCollection AddHlmHubStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var options = ReadOptions(configuration);
        var adapter = StorageProviderAdapter.For(options.Provider);

        services.AddSingleton(Options.Create(options));
        services.AddDbContextFactory<HlmHubDbContext>(builder => ConfigureContext(builder, adapter, options.ConnectionString));
        services.AddSingleton<IDatabaseMigrator>(provider => new DatabaseMigrator(
            provider.GetRequiredService<IDbContextFactory<HlmHubDbContext>>(), adapter));
        // Resolved lazily: the key file is only created when something first needs a member token.
        services.AddSingleton(_ => MemberTokenKeys.CreateGenerator(configuration, options.DataDirectory));
        return services;
    }

    internal static void ConfigureContext(DbContextOptionsBuilder builder, StorageProviderAdapter adapter, string connectionString)
    {
        adapter.UseDatabase(builder, connectionString);
        // EF Core compares the model with the last migration's snapshot and refuses to migrate when they differ.
        // HlmHub's migrations are hand-written without snapshots (the design-time package cannot be restored
        // here), so that check cannot work; a test proves instead that the migrated schema equals the model.
        // A failed command is not necessarily an error of the hub: a unique index refusing the loser of a race
        // (two retries of one fee payment) is an expected outcome the caller turns into an answer, and a fresh
        // PostgreSQL database has no migrations history table for EF's first probe. EF logs such failures at
        // Warning; a failure nobody handles still reaches the transport, which logs it as an error.
        builder.ConfigureWarnings(warnings => warnings
            .Ignore(RelationalEventId.PendingModelChangesWarning)
            .Log((RelationalEventId.CommandError, LogLevel.Warning), (CoreEventId.SaveChangesFailed, LogLevel.Warning)));
    }

    internal static StorageOptions ReadOptions(IConfiguration configuration)
    {
        var providerText = configuration["Storage:Provider"];
        var provider = StorageProvider.Sqlite;
        if (!string.IsNullOrWhiteSpace(providerText)
            && !Enum.TryParse(providerText.Trim(), ignoreCase: true, out provider))
        {
            throw new InvalidOperationException(
                $"Storage:Provider must be 'Sqlite' or 'Postgres', not '{providerText}'.");
        }

        if (!Enum.IsDefined(provider))
        {
            throw new InvalidOperationException($"Storage:Provider must be 'Sqlite' or 'Postgres', not '{providerText}'.");
        }

        var dataDirectory = configuration["Storage:DataDirectory"];
        if (string.IsNullOrWhiteSpace(dataDirectory))
        {
            dataDirectory = StorageOptions.DefaultDataDirectory;
        }

        var connectionString = configuration.GetConnectionString("HlmHub");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (provider != StorageProvider.Sqlite)
            {
                throw new InvalidOperationException(
                    "ConnectionStrings:HlmHub is required when Storage:Provider is Postgres.");
            }

            connectionString = $"Data Source={Path.Combine(dataDirectory, StorageOptions.DefaultSqliteFileName)}";
        }

        return new StorageOptions { Provider = provider, DataDirectory = dataDirectory, ConnectionString = connectionString };
    }
}
