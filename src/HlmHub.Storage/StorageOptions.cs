namespace HlmHub.Storage;

/// <summary>The database providers HlmHub can run on.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file under the data directory (the default: nothing to install).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (several hub instances, Quartz clustering).</summary>
    Postgres,

    /// <summary>A Microsoft SQL Server (several hub instances, Quartz clustering; the DBA may apply the schema).</summary>
    SqlServer,
}

/// <summary>
/// Where HlmHub keeps its data, resolved from configuration by
/// <see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>: <c>Storage:Provider</c>,
/// <c>Storage:DataDirectory</c>, <c>Storage:ApplyMigrationsAtStartup</c> and <c>ConnectionStrings:HlmHub</c>.
/// </summary>
public sealed class StorageOptions
{
    /// <summary>The default data directory, relative to the working directory.</summary>
    public const string DefaultDataDirectory = "./data";

    /// <summary>The SQLite file name used when no connection string is configured.</summary>
    public const string DefaultSqliteFileName = "hlmhub.db";

    /// <summary>
    /// SQLite: WAL pages after which a commit copies the WAL back into the database file (SQLite's default is 1,000,
    /// 4 MiB), set on every connection the hub opens. A roster batch or a redemption group commit writes hundreds to
    /// thousands of scattered pages, so with SQLite's default nearly every commit also ran a checkpoint and its
    /// <c>fsync</c> of the file: a third of a roster delta's time (docs/benchmarks.md). At 16,384 pages (64 MiB)
    /// checkpoints run far less often, and a page written by several commits in between is copied once. Durability
    /// is unchanged (each commit still syncs the WAL, <c>synchronous=FULL</c>); the WAL file grows to about this size,
    /// and a restart after a crash replays it.
    /// </summary>
    public const int SqliteWalAutoCheckpointPages = 16_384;

    /// <summary>The database provider (<c>Storage:Provider</c>, default <see cref="StorageProvider.Sqlite"/>).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// The directory for local state (<c>Storage:DataDirectory</c>, default <c>./data</c>): the SQLite file and
    /// the member-token key file live here. Created when first needed.
    /// </summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory;

    /// <summary>
    /// The resolved connection string (<c>ConnectionStrings:HlmHub</c>; for SQLite, when absent,
    /// <c>Data Source={DataDirectory}/hlmhub.db</c>).
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Whether the hub applies pending migrations when it starts (<c>Storage:ApplyMigrationsAtStartup</c>, default
    /// <c>true</c>). With <c>false</c> (a DBA applies reviewed scripts), the hub refuses to start on a database with
    /// pending migrations.
    /// </summary>
    public bool ApplyMigrationsAtStartup { get; set; } = true;
}
