using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Providers;

/// <summary>
/// Everything that differs between database providers lives in one adapter per provider: how the context
/// connects, what to prepare before migrating, and the few SQL statements EF Core cannot express neutrally
/// (triggers). Nothing else in HlmHub.Storage names a provider or writes raw SQL.
/// </summary>
internal abstract class StorageProviderAdapter
{
    public abstract StorageProvider Provider { get; }

    public static StorageProviderAdapter For(StorageProvider provider) => provider switch
    {
        StorageProvider.Sqlite => SqliteProviderAdapter.Instance,
        StorageProvider.Postgres => PostgresProviderAdapter.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown storage provider."),
    };

    /// <summary>The adapter for the provider a migration is being generated for.</summary>
    public static StorageProviderAdapter For(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        return migrationBuilder.ActiveProvider switch
        {
            SqliteProviderAdapter.EfProviderName => SqliteProviderAdapter.Instance,
            PostgresProviderAdapter.EfProviderName => PostgresProviderAdapter.Instance,
            var other => throw new NotSupportedException($"HlmHub migrations do not support the provider '{other}'."),
        };
    }

    /// <summary>Points the context at the database.</summary>
    public abstract void UseDatabase(DbContextOptionsBuilder builder, string connectionString);

    /// <summary>Runs before migrations are applied (outside any transaction).</summary>
    public abstract Task PrepareForMigrationAsync(HlmHubDbContext context, CancellationToken cancellationToken);

    /// <summary>Makes a table append-only: the database refuses UPDATE and DELETE on it.</summary>
    public abstract void CreateAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table);

    /// <summary>Removes what <see cref="CreateAppendOnlyTriggers"/> created.</summary>
    public abstract void DropAppendOnlyTriggers(MigrationBuilder migrationBuilder, string table);

    /// <summary>
    /// Refuses UPDATE and DELETE of a row of <paramref name="table"/> while a row of
    /// <paramref name="referencingTable"/> references it (<paramref name="referencingColumns"/> =
    /// <paramref name="keyColumns"/>, pairwise).
    /// </summary>
    public abstract void CreateImmutableOnceReferencedTrigger(
        MigrationBuilder migrationBuilder,
        string table,
        IReadOnlyList<string> keyColumns,
        string referencingTable,
        IReadOnlyList<string> referencingColumns);

    /// <summary>Removes what <see cref="CreateImmutableOnceReferencedTrigger"/> created.</summary>
    public abstract void DropImmutableOnceReferencedTrigger(MigrationBuilder migrationBuilder, string table);

    /// <summary>Whether this exception (not its inner ones) is this provider's unique-constraint violation.</summary>
    public abstract bool IsUniqueViolation(Exception error);

    /// <summary>Quotes an identifier; both supported providers accept the SQL-standard double quotes.</summary>
    protected static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    protected static string ReferenceCondition(
        IReadOnlyList<string> keyColumns, string referencingTable, IReadOnlyList<string> referencingColumns)
    {
        if (keyColumns.Count == 0 || keyColumns.Count != referencingColumns.Count)
        {
            throw new ArgumentException("Key and referencing columns must pair up.", nameof(referencingColumns));
        }

        var pairs = keyColumns.Select((key, index) =>
            $"{Quote(referencingTable)}.{Quote(referencingColumns[index])} = OLD.{Quote(key)}");
        return $"EXISTS (SELECT 1 FROM {Quote(referencingTable)} WHERE {string.Join(" AND ", pairs)})";
    }
}
