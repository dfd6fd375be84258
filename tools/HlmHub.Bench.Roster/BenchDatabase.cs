using System.Data.Common;
using HlmHub.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace HlmHub.Bench;

/// <summary>A fresh database for one provider: a SQLite file in a new data directory, or a new PostgreSQL database on HLMHUB_TEST_POSTGRES.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string? _server;
    private readonly string? _name;

    private BenchDatabase(StorageProvider provider, string dataDirectory, string connectionString, string? server, string? name)
    {
        Provider = provider;
        DataDirectory = dataDirectory;
        ConnectionString = connectionString;
        _server = server;
        _name = name;
    }

    public StorageProvider Provider { get; }

    public string DataDirectory { get; }

    /// <summary>The connection string the hub gets (for SQLite, the one it builds itself from its data directory).</summary>
    public string ConnectionString { get; }

    /// <summary>The hub's storage settings for this database.</summary>
    public Dictionary<string, string?> HubSettings => new()
    {
        ["Storage:Provider"] = Provider.ToString(),
        ["Storage:DataDirectory"] = DataDirectory,
        ["ConnectionStrings:HlmHub"] = Provider == StorageProvider.Sqlite ? null : ConnectionString,
    };

    public static async Task<BenchDatabase> CreateAsync(StorageProvider provider, CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("hlmhub-bench-").FullName;
        if (provider == StorageProvider.Sqlite)
        {
            return new BenchDatabase(provider, directory, $"Data Source={Path.Combine(directory, StorageOptions.DefaultSqliteFileName)}", null, null);
        }

        var server = Environment.GetEnvironmentVariable("HLMHUB_TEST_POSTGRES")
            ?? throw new InvalidOperationException("HLMHUB_TEST_POSTGRES is not set (tools/bench/redemptions.sh starts a PostgreSQL and sets it).");
        var name = "hlmhub_bench_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new BenchDatabase(provider, directory, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString, server, name);
    }

    /// <summary>
    /// A connection for the references: the hub's connection string; for SQLite with foreign keys on, as EF Core opens
    /// it; for PostgreSQL with automatic preparation of repeated statements.
    /// </summary>
    public DbConnection OpenReferenceConnection() => Provider == StorageProvider.Sqlite
        ? WithHubSettings(new SqliteConnection(new SqliteConnectionStringBuilder(ConnectionString) { ForeignKeys = true }.ConnectionString))
        : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { MaxAutoPrepare = 8 }.ConnectionString);

    // The references write through the same settings as the hub's own connections (the WAL checkpoint interval,
    // StorageOptions.SqliteWalAutoCheckpointPages), so a ratio compares the code, not the settings.
    private static SqliteConnection WithHubSettings(SqliteConnection connection)
    {
        connection.StateChange += (_, change) =>
        {
            if (change.CurrentState == System.Data.ConnectionState.Open)
            {
                using var command = connection.CreateCommand();
                command.CommandText = $"PRAGMA wal_autocheckpoint={StorageOptions.SqliteWalAutoCheckpointPages};";
                command.ExecuteNonQuery();
            }
        };
        return connection;
    }

    /// <summary>A Guid as a SQL literal, as each provider stores it (EF Core: upper-case text on SQLite, uuid on PostgreSQL).</summary>
    public string GuidLiteral(Guid id) => Provider == StorageProvider.Sqlite ? $"'{id.ToString().ToUpperInvariant()}'" : $"'{id}'::uuid";

    /// <summary>A boolean as a SQL literal.</summary>
    public string Bool(bool value) => Provider == StorageProvider.Sqlite ? (value ? "1" : "0") : (value ? "true" : "false");

    /// <summary>Two valid SIRENs for the benchmarks' landlords.</summary>
    public static string Siren(int seed) => seed == 1 ? "732829320" : "552100554";

    /// <summary>A Guid as a parameter value, as EF Core stores it: upper-case text on SQLite, uuid on PostgreSQL.</summary>
    public object Id(Guid id) => Provider == StorageProvider.Sqlite ? id.ToString().ToUpperInvariant() : id;

    /// <summary>The durability settings a fresh connection runs with (SQLite: journal mode and synchronous; PostgreSQL: fsync, synchronous_commit, full_page_writes), for the report.</summary>
    public async Task<string> DurabilitySettingsAsync(CancellationToken cancellationToken)
    {
        await using var connection = OpenReferenceConnection();
        await connection.OpenAsync(cancellationToken);
        var settings = new List<string>();
        var queries = Provider == StorageProvider.Sqlite
            ? new[] { "PRAGMA journal_mode", "PRAGMA synchronous" }
            : ["SHOW fsync", "SHOW synchronous_commit", "SHOW full_page_writes", "SHOW wal_sync_method"];
        foreach (var query in queries)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = query;
            settings.Add($"{query.Split(' ')[1]}={await command.ExecuteScalarAsync(cancellationToken)}");
        }

        return string.Join(", ", settings);
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (_server is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_server);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}
