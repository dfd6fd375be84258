using HlmHub.Storage;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Storage.Tests;

public sealed class StorageRegistrationTests
{
    [Fact]
    public void NoConfiguration_UsesSqliteFileInDefaultDataDirectory()
    {
        var options = ResolveOptions(new Dictionary<string, string?>());

        Assert.Equal(StorageProvider.Sqlite, options.Provider);
        Assert.Equal("./data", options.DataDirectory);
        Assert.Equal($"Data Source={Path.Combine("./data", "hlmhub.db")}", options.ConnectionString);
    }

    [Fact]
    public void PostgresWithoutConnectionString_FailsNamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ResolveOptions(new Dictionary<string, string?> { ["Storage:Provider"] = "Postgres" }));

        Assert.Contains("ConnectionStrings:HlmHub", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SqlServer_IsSelectable_WithItsConnectionString_AndMigrationsAtStartupCanBeTurnedOff()
    {
        var options = ResolveOptions(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "SqlServer",
            ["ConnectionStrings:HlmHub"] = "Server=db.example;Database=hlmhub",
            ["Storage:ApplyMigrationsAtStartup"] = "false",
        });

        Assert.Equal(StorageProvider.SqlServer, options.Provider);
        Assert.Equal("Server=db.example;Database=hlmhub", options.ConnectionString);
        Assert.False(options.ApplyMigrationsAtStartup);
        Assert.True(ResolveOptions([]).ApplyMigrationsAtStartup);
    }

    [Fact]
    public void ApplyMigrationsAtStartup_NotABoolean_FailsNamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ResolveOptions(new Dictionary<string, string?> { ["Storage:ApplyMigrationsAtStartup"] = "sometimes" }));

        Assert.Contains("Storage:ApplyMigrationsAtStartup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownProvider_FailsNamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ResolveOptions(new Dictionary<string, string?> { ["Storage:Provider"] = "Oracle" }));

        Assert.Contains("Storage:Provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentStyleKeys_SelectTheProvider()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage__Provider"] = "postgres",
                ["ConnectionStrings__HlmHub"] = "Host=127.0.0.1;Database=x",
            })
            .Build();
        // The environment-variable provider turns "__" into ":"; mimic it the way it does.
        var mapped = new ConfigurationBuilder()
            .AddInMemoryCollection(configuration.AsEnumerable().ToDictionary(
                pair => pair.Key.Replace("__", ":", StringComparison.Ordinal), pair => pair.Value))
            .Build();

        var options = new ServiceCollection().AddHlmHubStorage(mapped).BuildServiceProvider()
            .GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Equal(StorageProvider.Postgres, options.Provider);
        Assert.Equal("Host=127.0.0.1;Database=x", options.ConnectionString);
    }

    [Fact]
    public async Task SqliteMigration_CreatesDataDirectoryForItsUserOnly_AndUsesWriteAheadLog()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var database = await TestDatabase.CreateAsync(StorageProvider.Sqlite, cancellationToken);
        var dataDirectory = database.Services.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory;
        Assert.False(Directory.Exists(dataDirectory));

        await database.Migrator.MigrateAsync(cancellationToken);

        Assert.True(File.Exists(Path.Combine(dataDirectory, "hlmhub.db")));
        // 0700 whatever the umask: the database holds the key ring and the references beside their member tokens.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDirectory));
            Assert.False(PrivateDirectory.IsOpenToOthers(dataDirectory, out _));
        }

        await using var context = await database.CreateContextAsync(cancellationToken);
        var connection = (SqliteConnection)context.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(cancellationToken));
        // The database and its write-ahead files: the owner's only, whatever the umask or the directory's mode later.
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { "hlmhub.db", "hlmhub.db-wal", "hlmhub.db-shm" })
            {
                Assert.Equal((file, UnixFileMode.UserRead | UnixFileMode.UserWrite), (file, File.GetUnixFileMode(Path.Combine(dataDirectory, file))));
            }
        }
    }

    [Fact]
    public void Registration_ProvidesScopedContextAndSingletonFactory()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        using var services = new ServiceCollection().AddHlmHubStorage(configuration).BuildServiceProvider();

        var factory = services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();
        Assert.Same(factory, services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>());
        using var scope = services.CreateScope();
        using var otherScope = services.CreateScope();
        var context = scope.ServiceProvider.GetRequiredService<HlmHubDbContext>();
        Assert.Same(context, scope.ServiceProvider.GetRequiredService<HlmHubDbContext>());
        Assert.NotSame(context, otherScope.ServiceProvider.GetRequiredService<HlmHubDbContext>());
        Assert.Same(services.GetRequiredService<IDatabaseMigrator>(), services.GetRequiredService<IDatabaseMigrator>());
    }

    private static StorageOptions ResolveOptions(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddHlmHubStorage(configuration).BuildServiceProvider()
            .GetRequiredService<IOptions<StorageOptions>>().Value;
    }
}
