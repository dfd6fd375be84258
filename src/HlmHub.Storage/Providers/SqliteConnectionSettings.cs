using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace HlmHub.Storage.Providers;

/// <summary>
/// Settings SQLite keeps per connection, not in the file, applied once to each connection the hub's contexts open
/// (Microsoft.Data.Sqlite pools the underlying handles, so a handle is set up once, not on every open): for now
/// <see cref="StorageOptions.SqliteWalAutoCheckpointPages"/>.
/// </summary>
internal sealed class SqliteConnectionSettings : DbConnectionInterceptor
{
    public static readonly SqliteConnectionSettings Instance = new();

    private static readonly string Pragmas = string.Create(CultureInfo.InvariantCulture, $"PRAGMA wal_autocheckpoint={StorageOptions.SqliteWalAutoCheckpointPages};");

    // The handles already set up; an entry goes when its handle is collected.
    private static readonly ConditionalWeakTable<object, object> Configured = new();

    private SqliteConnectionSettings()
    {
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (NeedsSettings(connection, out var sqlite))
        {
            using var command = sqlite.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
            Configured.AddOrUpdate(sqlite.Handle!, Instance);
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (NeedsSettings(connection, out var sqlite))
        {
            await using var command = sqlite.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            Configured.AddOrUpdate(sqlite.Handle!, Instance);
        }
    }

    private static bool NeedsSettings(DbConnection connection, out SqliteConnection sqlite)
    {
        sqlite = (connection as SqliteConnection)!;
        return sqlite?.Handle is { } handle && !Configured.TryGetValue(handle, out _);
    }
}
