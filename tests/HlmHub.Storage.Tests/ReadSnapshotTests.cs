using System.Data;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// <see cref="ReadSnapshots"/>: a long read's snapshot ends with nothing left behind, so a context that lives on (as a
/// roster session's does) has its connection back in the pool, and no transaction of it open.
/// </summary>
public sealed class SqliteReadSnapshotTests(SqliteDatabaseFixture fixture) : IClassFixture<SqliteDatabaseFixture>
{
    [Fact]
    public async Task ASnapshotEnded_LeavesTheContextsConnectionClosed_AndNoTransaction()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var db = await fixture.Database.CreateContextAsync(cancellationToken);

        await using (var snapshot = await ReadSnapshots.BeginAsync(db, cancellationToken))
        {
            Assert.NotNull(snapshot);
            Assert.NotNull(db.Database.CurrentTransaction);
            await db.Clubs.CountAsync(cancellationToken);
        }

        Assert.Null(db.Database.CurrentTransaction);
        Assert.Equal(ConnectionState.Closed, db.Database.GetDbConnection().State);
    }
}
