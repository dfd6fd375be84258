using System.Data.Common;
using HlmHub.Server.Features.Admin;
using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.Server.Tests;

/// <summary>
/// The schema commands and switches of the real HlmHub.Server process: <c>--migrate</c> applies the migrations and
/// exits, <c>--migrations-script</c> prints the DBA's script and exits, and with
/// <c>Storage:ApplyMigrationsAtStartup=false</c> the hub refuses a database that is behind and serves one that is not.
/// </summary>
public sealed class MigrateCommandTests : IDisposable
{
    /// <summary>Loopback ports chosen by the system, whichever endpoint configuration the host uses.</summary>
    private static readonly string[] EphemeralPorts =
        ["--urls", "http://127.0.0.1:0", "--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0", "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0"];

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("hlmhub-schema-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task MigrateSwitch_CreatesTheSchemaAndExitsWithoutServing()
    {
        var run = await RunToExitAsync("--migrate", $"--Storage:DataDirectory={_dataDirectory}");

        Assert.True(run.ExitCode == 0, run.ToString());
        // Nothing was served: the first administrator is only created by a running hub.
        Assert.False(File.Exists(Path.Combine(_dataDirectory, BootstrapAdmin.FileName)));
        Assert.True(await CountMigrationsAsync() > 0, "no migration was recorded");
        Assert.Equal(1L, await ScalarAsync("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'LedgerEntries'"));
    }

    [Theory]
    // SQL Server's script first turns on what sqlcmd leaves off without -I (docs/storage.md, "For the DBA").
    [InlineData("SqlServer", "Server=unreachable.invalid;Database=hlmhub;TrustServerCertificate=true", "CREATE TRIGGER [dbo].[TR_LedgerEntries_Balanced]", "SET QUOTED_IDENTIFIER ON;")]
    [InlineData("Postgres", "Host=unreachable.invalid;Database=hlmhub", "CREATE CONSTRAINT TRIGGER \"TR_LedgerEntries_Balanced\"", "__EFMigrationsHistory")]
    public async Task MigrationsScriptSwitch_PrintsTheIdempotentScriptOfTheConfiguredProvider_WithoutConnecting(
        string provider, string connectionString, string providerGuard, string firstLine)
    {
        var run = await RunToExitAsync(
            "--migrations-script", $"--Storage:Provider={provider}", $"--ConnectionStrings:HlmHub={connectionString}", $"--Storage:DataDirectory={_dataDirectory}");

        Assert.True(run.ExitCode == 0, run.ToString());
        // Standard output is the script alone (logs go to standard error), so it can be redirected into a file.
        Assert.Contains(firstLine, run.Output.Split('\n')[0], StringComparison.Ordinal);
        Assert.Contains(providerGuard, run.Output, StringComparison.Ordinal);
        // Idempotent: every step is guarded by the migrations history.
        Assert.Contains("IF NOT EXISTS", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyMigrationsAtStartupFalse_OnADatabaseThatIsBehind_RefusesToStartWithOneLineNamingTheCommands()
    {
        var run = await RunToExitAsync(
            [$"--Storage:DataDirectory={_dataDirectory}", "--Storage:ApplyMigrationsAtStartup=false", .. EphemeralPorts]);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("pending migration", line, StringComparison.Ordinal);
        Assert.Contains("--migrations-script", line, StringComparison.Ordinal);
        Assert.Contains("--migrate", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dataDirectory, BootstrapAdmin.FileName)));
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "hlmhub.db")) && await CountTablesAsync() > 0, "the hub changed the schema");
    }

    [Fact]
    public async Task ApplyMigrationsAtStartupFalse_OnAMigratedDatabase_StartsAndAnswersHealthy()
    {
        Assert.Equal(0, (await RunToExitAsync("--migrate", $"--Storage:DataDirectory={_dataDirectory}")).ExitCode);

        // The hub as operators deploy it (TestSupport's, the published one in CI), started on the migrated database.
        await using var hub = HubProcess.Start(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = _dataDirectory,
            ["Storage:ApplyMigrationsAtStartup"] = "false",
        });
        await hub.WaitStartedAsync();
        using var http = new HttpClient { BaseAddress = hub.HttpAddress };
        var health = await http.GetStringAsync("/healthz").DefaultTimeout();

        Assert.Equal("Healthy", health);
        Assert.True(File.Exists(Path.Combine(_dataDirectory, BootstrapAdmin.FileName)));
    }

    /// <summary>
    /// The DBA's mode: the production configuration says <c>Storage:ApplyMigrationsAtStartup=false</c>, and
    /// <c>--migrate</c> is run with it. Quartz's tables must come with the migrations (docs/scheduling.md): the command
    /// used to leave them to a start-up provisioning that this setting turns off, fail after the migrations, and
    /// leave a database the hub then refused to start on.
    /// </summary>
    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public async Task MigrateSwitch_WithApplyMigrationsAtStartupFalse_CreatesQuartzTablesToo_AndTheHubThenStarts(StorageProvider provider)
    {
        await using var database = await EmptyDatabase.CreateAsync(provider, TestTimeouts.Token());
        var settings = new Dictionary<string, string?>(database.Settings) { ["Storage:ApplyMigrationsAtStartup"] = "false" };

        await HubProcess.MigrateAsync(settings);

        var tables = await QuartzTablesAsync(database);
        Assert.Superset(new HashSet<string> { "qrtz_job_details", "qrtz_triggers", "qrtz_cron_triggers", "qrtz_fired_triggers", "qrtz_locks", "qrtz_scheduler_state" }, tables);
        await using var hub = HubProcess.Start(settings);
        await hub.WaitStartedAsync();
        using var http = new HttpClient { BaseAddress = hub.HttpAddress };
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz").DefaultTimeout());
    }

    /// <summary>The names, in lower case, of the tables with Quartz's prefix in <paramref name="database"/>.</summary>
    private static async Task<HashSet<string>> QuartzTablesAsync(EmptyDatabase database)
    {
        await using DbConnection connection = database.Provider == StorageProvider.Sqlite
            ? new SqliteConnection(database.ConnectionString + ";Pooling=False")
            : new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = database.Provider == StorageProvider.Sqlite
            ? "SELECT lower(name) FROM sqlite_master WHERE type = 'table'"
            : "SELECT lower(table_name) FROM information_schema.tables WHERE table_schema = current_schema()";
        var tables = new HashSet<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return [.. tables.Where(table => table.StartsWith("qrtz_", StringComparison.Ordinal))];
    }

    private async Task<long> CountMigrationsAsync() => await ScalarAsync("SELECT COUNT(*) FROM __EFMigrationsHistory");

    private async Task<long> CountTablesAsync() => await ScalarAsync("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDirectory, "hlmhub.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The built HlmHub.Server run as its own process to its end, standard output and error apart.</summary>
    private static Task<ProcessRun> RunToExitAsync(params string[] arguments) =>
        ProcessRun.RunAsync("dotnet", [typeof(AdminService).Assembly.Location, .. arguments], TestTimeouts.Startup);
}
