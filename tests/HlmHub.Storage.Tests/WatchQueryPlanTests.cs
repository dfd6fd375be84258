using System.Data.Common;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// The plan SQLite chooses for the query a <c>Watch</c> poll runs (<see cref="WatchQueries.ChangedHouseholds"/>),
/// read with <c>EXPLAIN QUERY PLAN</c> on the exact command EF Core sends: a poll must find what changed in its
/// window through the window indexes, never by visiting every household or membership of the partner's clubs.
/// </summary>
public sealed class WatchQueryPlanTests(SqliteDatabaseFixture fixture) : IClassFixture<SqliteDatabaseFixture>
{
    [Fact]
    public async Task WatchPoll_OnSqlite_SeeksTheWindowIndexes_AndScansNoTable()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var db = await fixture.Database.CreateContextAsync(cancellationToken);
        var query = WatchQueries.ChangedHouseholds(db, ["club-a", "club-b"], Window, [], "mt_after", pageSize: 500);

        var plan = await ExplainAsync(db, query, cancellationToken);

        var shown = string.Join(Environment.NewLine, plan);
        Assert.True(plan.Any(step => step.EndsWith("USING INDEX IX_Households_StatusChangedAt (StatusChangedAt>? AND StatusChangedAt<?)", StringComparison.Ordinal)), shown);
        Assert.True(plan.Any(step => step.EndsWith("USING INDEX IX_Memberships_ClubId_JoinedAt (ClubId=? AND JoinedAt>? AND JoinedAt<?)", StringComparison.Ordinal)), shown);
        Assert.True(plan.Any(step => step.EndsWith("USING INDEX IX_Memberships_ClubId_LeftAt (ClubId=? AND LeftAt>? AND LeftAt<?)", StringComparison.Ordinal)), shown);
        // The page's households are reached by primary key from the changed ids, not read in member-token order.
        Assert.False(plan.Any(step => step.Contains("IX_Households_MemberToken", StringComparison.Ordinal)), shown);
        Assert.False(plan.Any(IsTableScan), shown);
    }

    [Fact]
    public async Task WatchPollAfterAnAgreementChanged_OnSqlite_ReadsThatClubsOptInsBySeeks_AndScansNoTable()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var db = await fixture.Database.CreateContextAsync(cancellationToken);
        var query = WatchQueries.ChangedHouseholds(db, ["club-a", "club-b"], Window, [new ClubLandlord("club-a", "voisin")], null, pageSize: 500);

        var plan = await ExplainAsync(db, query, cancellationToken);

        var shown = string.Join(Environment.NewLine, plan);
        Assert.True(plan.Any(step => step.EndsWith("USING INDEX IX_Households_StatusChangedAt (StatusChangedAt>? AND StatusChangedAt<?)", StringComparison.Ordinal)), shown);
        // The changed agreement's club: its opt-ins by the primary key's club prefix, then each household by id.
        Assert.True(plan.Any(step => step.StartsWith("SEARCH ", StringComparison.Ordinal) && step.EndsWith("INDEX sqlite_autoindex_Memberships_1 (ClubId=?)", StringComparison.Ordinal)), shown);
        Assert.False(plan.Any(IsTableScan), shown);
    }

    private static (DateTimeOffset Start, DateTimeOffset End) Window => (SampleWorld.Now.AddSeconds(-2), SampleWorld.Now);

    // "SCAN t" reads a whole table (or a whole index); SEARCH seeks. Scans of the query's own temporary results
    // (a parameter list, a union being merged) are not table scans.
    private static bool IsTableScan(string step) =>
        step.StartsWith("SCAN ", StringComparison.Ordinal) && !step.Contains("VIRTUAL TABLE", StringComparison.Ordinal)
        && !step.StartsWith("SCAN CONSTANT ROW", StringComparison.Ordinal);

    /// <summary>The detail column of <c>EXPLAIN QUERY PLAN</c> for the command EF Core generates, parameters bound.</summary>
    private static async Task<List<string>> ExplainAsync<T>(HlmHubDbContext db, IQueryable<T> query, CancellationToken cancellationToken)
    {
        await using DbCommand command = query.CreateDbCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var steps = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                steps.Add(reader.GetString(reader.GetOrdinal("detail")));
            }

            return steps;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
