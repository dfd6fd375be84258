using HlmHub.Storage.Internal;
using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore;
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
    /// <see cref="MemberTokenKeys"/>), reading <c>Storage:Provider</c> (<c>Sqlite</c> by default,
    /// <c>Postgres</c> or <c>SqlServer</c>), <c>Storage:DataDirectory</c> (default <c>./data</c>) and <c>ConnectionStrings:HlmHub</c>
    /// (for SQLite, by default the file <c>hlmhub.db</c> in the data directory).
    /// </summary>
    public static IServiceCollection AddHlmHubStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var options = ReadOptions(configuration);
        var adapter = StorageProviderAdapter.For(options.Provider);

        services.AddSingleton(Options.Create(options));
        services.AddDbContextFactory<HlmHubDbContext>(builder => HlmHubDbContextOptions.Configure(builder, options.Provider, options.ConnectionString));
        services.AddSingleton<IDatabaseMigrator>(provider => new DatabaseMigrator(
            provider.GetRequiredService<IDbContextFactory<HlmHubDbContext>>(), adapter));
        // Resolved lazily: the key file is only created when something first needs a member token. A configured key,
        // or an existing key file, is checked now, so a bad one stops the start-up.
        MemberTokenKeys.CheckKey(configuration, options.DataDirectory);
        services.AddSingleton(_ => MemberTokenKeys.CreateGenerator(configuration, options.DataDirectory));
        return services;
    }

    /// <summary>
    /// The storage settings as <see cref="AddHlmHubStorage"/> resolves them (for components that open the same
    /// database with a driver of their own, such as the Quartz job store); throws on an invalid setting.
    /// </summary>
    public static StorageOptions ReadOptions(IConfiguration configuration)
    {
        var providerText = configuration["Storage:Provider"];
        var provider = StorageProvider.Sqlite;
        if (!string.IsNullOrWhiteSpace(providerText)
            && !Enum.TryParse(providerText.Trim(), ignoreCase: true, out provider))
        {
            throw new InvalidOperationException(
                $"Storage:Provider must be 'Sqlite', 'Postgres' or 'SqlServer', not '{providerText}'.");
        }

        if (!Enum.IsDefined(provider))
        {
            throw new InvalidOperationException($"Storage:Provider must be 'Sqlite', 'Postgres' or 'SqlServer', not '{providerText}'.");
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
                    $"ConnectionStrings:HlmHub is required when Storage:Provider is {provider}.");
            }

            connectionString = $"Data Source={Path.Combine(dataDirectory, StorageOptions.DefaultSqliteFileName)}";
        }

        CheckConnectionString(provider, connectionString);

        return new StorageOptions
        {
            Provider = provider,
            DataDirectory = dataDirectory,
            ConnectionString = connectionString,
            ApplyMigrationsAtStartup = ReadApplyMigrationsAtStartup(configuration),
        };
    }

    /// <summary>
    /// Parses the connection string as its provider will, so a malformed one (an unknown keyword, a port that is no
    /// number) stops the start-up as a configuration error naming the setting, instead of failing later inside the
    /// host's start. Only the driver's outer message is kept: its inner exception may quote the offending value, and a
    /// connection string holds a password.
    /// </summary>
    private static void CheckConnectionString(StorageProvider provider, string connectionString)
    {
        try
        {
            _ = provider switch
            {
                StorageProvider.Postgres => new Npgsql.NpgsqlConnectionStringBuilder(connectionString).ConnectionString,
                StorageProvider.SqlServer => new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(connectionString).ConnectionString,
                _ => new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).ConnectionString,
            };
        }
        catch (Exception error) when (error is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:HlmHub is not a valid {provider} connection string: {error.Message.TrimEnd('.')}.");
        }
    }

    private static bool ReadApplyMigrationsAtStartup(IConfiguration configuration)
    {
        var text = configuration["Storage:ApplyMigrationsAtStartup"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        return bool.TryParse(text.Trim(), out var value)
            ? value
            : throw new InvalidOperationException($"Storage:ApplyMigrationsAtStartup must be 'true' or 'false', not '{text}'.");
    }
}
