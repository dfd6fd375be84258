using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// The hub's SQLite connections checkpoint the WAL every 16,384 pages, not SQLite's 1,000 (docs/storage.md), on the
/// first open of a pooled connection and on every reuse; a connection opened outside the hub keeps SQLite's default,
/// so the setting is the hub's doing, not the file's.
/// </summary>
public sealed class SqliteConnectionSettingsTests(SqliteDatabaseFixture fixture) : IClassFixture<SqliteDatabaseFixture>
{
    private const string ReadCheckpointPages = "PRAGMA wal_autocheckpoint;";

    [Fact]
    public async Task HubConnections_CheckpointEvery16384Pages_AfterReuse_WhileOthersKeepSqlitesDefault()
    {
        var cancellationToken = TestTimeouts.Token();
        for (var open = 0; open < 3; open++)
        {
            await using var context = await fixture.Database.CreateContextAsync(cancellationToken);
            await context.Database.OpenConnectionAsync(cancellationToken);
            await using var read = context.Database.GetDbConnection().CreateCommand();
            read.CommandText = ReadCheckpointPages;
            Assert.Equal(16_384L, await read.ExecuteScalarAsync(cancellationToken));
            await context.Database.CloseConnectionAsync();
        }

        await using var outside = new SqliteConnection(fixture.Database.ConnectionString + ";Pooling=False");
        await outside.OpenAsync(cancellationToken);
        await using var command = outside.CreateCommand();
        command.CommandText = ReadCheckpointPages;
        Assert.Equal(1_000L, await command.ExecuteScalarAsync(cancellationToken));
    }
}
