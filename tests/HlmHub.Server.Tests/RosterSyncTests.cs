using HlmHub.Domain;
using HlmHub.Domain.Roster;
using HlmHub.Observability;
using HlmHub.Server.Features.Roster;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace HlmHub.Server.Tests;

/// <summary>
/// The roster engine on a real database (SQLite file, PostgreSQL server): full snapshots and deltas, versions,
/// consent, resuming after a broken stream, and its limits. The gRPC contract on top of it has tests of its own.
/// </summary>
public abstract class RosterSyncTests(StorageProvider provider) : IAsyncLifetime
{
    private EmptyDatabase? _database;
    private ServiceProvider? _services;
    private World _world = null!;

    private RosterSync Sync => _services!.GetRequiredService<RosterSync>();

    public async Task InitializeAsync()
    {
        var cancellationToken = TestTimeouts.Token();
        _database = await EmptyDatabase.CreateAsync(provider, cancellationToken);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(_database.Settings)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["MemberTokens:Key"] = Convert.ToBase64String(new byte[32]),
                ["Roster:MaxItemsPerBatch"] = "50",
                ["Roster:MaxItemsPerCommit"] = "60",
                ["Roster:MaxItemsPerSession"] = "200",
                ["Roster:MemberTokensPageSize"] = "2",
            })
            .Build();
        var services = new ServiceCollection().AddHlmHubStorage(configuration).AddSingleton(TimeProvider.System).AddLogging();
        services.AddOptions<RosterOptions>().Bind(configuration.GetSection(RosterOptions.SectionName));
        services.AddSingleton<RosterSync>();
        services.AddHubMetrics();
        _services = services.BuildServiceProvider();
        await _services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(cancellationToken);
        _world = await World.CreateAsync(_services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>(), cancellationToken);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task FullSnapshot_CreatesHouseholds_ThenASecondMarksTheAbsentAsLeftWithoutDeletingThem()
    {
        var first = await RunAsync(RosterSessionKind.FullSnapshot, Upsert(1, "REF-1"), Upsert(2, "REF-2"), Upsert(3, "REF-3"));
        var second = await RunAsync(RosterSessionKind.FullSnapshot, Upsert(1, "REF-1"), Upsert(2, "REF-3"));

        Assert.Equal((3L, 0L), (first.Session.Created, first.Session.Removed));
        Assert.Equal((0L, 2L, 1L), (second.Session.Created, second.Session.Unchanged, second.Session.Removed));
        var households = await HouseholdsAsync();
        Assert.Equal(3, households.Count);
        Assert.Equal(HouseholdStatus.Left, households["REF-2"].Status);
        Assert.Equal(HouseholdStatus.Active, households["REF-1"].Status);
        Assert.StartsWith(MemberTokenGenerator.Prefix, first.Results[0].MemberToken, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delta_UpdatesAndRemoves_AndLeavesUnlistedHouseholdsAlone()
    {
        await RunAsync(RosterSessionKind.FullSnapshot, Upsert(1, "REF-1"), Upsert(2, "REF-2"));
        var delta = await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1", version: 2, rooms: 5), Remove(2, "REF-2", version: 2));

        Assert.Equal((1L, 1L), (delta.Session.Updated, delta.Session.Removed));
        var households = await HouseholdsAsync();
        Assert.Equal(5, households["REF-1"].Rooms);
        Assert.Equal(HouseholdStatus.Left, households["REF-2"].Status);
    }

    [Fact]
    public async Task WatchWindow_HoldsTheHouseholdsThatLeftOrCameBack_NotOneWhoseRoomsChanged()
    {
        var cancellationToken = TestTimeouts.Token();
        string[] club = [_world.HostClubId];
        await RunAsync(RosterSessionKind.FullSnapshot,
            Upsert(1, "REF-1", clubs: club), Upsert(2, "REF-2", clubs: club), Upsert(3, "REF-3", clubs: club), Upsert(4, "REF-4", clubs: club));
        await RunAsync(RosterSessionKind.Delta, Remove(1, "REF-3", version: 2));
        var before = await HouseholdsAsync();
        // Instants are stored to the millisecond: the window starts strictly after the writes above.
        await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        var start = TimeProvider.System.GetUtcNow();
        await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);

        // In the window: REF-1's rooms change, REF-2 leaves and REF-3 comes back (none of their opt-ins moves), and a
        // full snapshot without REF-4 marks it as left at its end.
        await RunAsync(RosterSessionKind.Delta,
            Upsert(1, "REF-1", version: 2, rooms: 6, clubs: club), Remove(2, "REF-2", version: 2), Upsert(3, "REF-3", version: 3, clubs: club));
        await RunAsync(RosterSessionKind.FullSnapshot, Upsert(1, "REF-1", version: 2, rooms: 6, clubs: club), Upsert(2, "REF-3", version: 3, clubs: club));
        var end = TimeProvider.System.GetUtcNow();

        await using var db = await DbAsync(cancellationToken);
        var changed = await WatchQueries.ChangedHouseholds(db, club, (start, end), [], null, pageSize: 100)
            .Select(household => household.LandlordReference).ToListAsync(cancellationToken);
        var after = await HouseholdsAsync();
        Assert.Equal(["REF-2", "REF-3", "REF-4"], changed.Order(StringComparer.Ordinal));
        Assert.Equal((6, HouseholdStatus.Active), (after["REF-1"].Rooms, after["REF-1"].Status));
        Assert.True(after["REF-1"].UpdatedAt > before["REF-1"].UpdatedAt);
        Assert.Equal(before["REF-1"].StatusChangedAt, after["REF-1"].StatusChangedAt);
        Assert.Equal(
            [HouseholdStatus.Left, HouseholdStatus.Active, HouseholdStatus.Left],
            new[] { "REF-2", "REF-3", "REF-4" }.Select(reference => after[reference].Status));
    }

    [Fact]
    public async Task OlderVersion_IsReportedStaleAndNeverApplied()
    {
        await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1", version: 5, rooms: 3));
        var stale = await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1", version: 4, rooms: 6));

        Assert.Equal(1L, stale.Session.Stale);
        Assert.Equal(RosterItemOutcome.Stale, stale.Results.Single().Outcome);
        Assert.Equal(3, (await HouseholdsAsync())["REF-1"].Rooms);
    }

    [Fact]
    public async Task BadItems_AreRejectedWithReasons_AndTheRestOfTheSessionApplies()
    {
        var run = await RunAsync(
            RosterSessionKind.Delta,
            Upsert(1, "REF-1", rooms: 0),
            Upsert(2, "REF-2", rooms: 8),
            Upsert(3, "REF-3"),
            Upsert(4, "REF-3"),
            Upsert(5, "REF-5", clubs: ["club-inconnu"]),
            Upsert(6, "REF-6", clubs: [_world.ForeignClubId]),
            Remove(7, "REF-NEVER-SEEN"),
            Upsert(8, "REF-8", clubs: [_world.HostClubId]));

        Assert.Equal(
            [RosterRejection.RoomsOutOfRange, RosterRejection.RoomsOutOfRange, RosterRejection.None, RosterRejection.DuplicateReference,
             RosterRejection.UnknownClub, RosterRejection.NoAgreementWithClub, RosterRejection.UnknownHousehold, RosterRejection.None],
            run.Results.Select(result => result.Rejection));
        Assert.Equal((2L, 6L), (run.Session.Created, run.Session.Rejected));
        Assert.All(run.Results.Where(result => result.Outcome == RosterItemOutcome.Rejected), result => Assert.False(string.IsNullOrEmpty(result.Message)));
        Assert.Equal(["REF-3", "REF-8"], (await HouseholdsAsync()).Keys.Order());
    }

    [Fact]
    public async Task OptInToAFederatedClub_IsAccepted_AndDroppingItLeavesTheClub()
    {
        await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1", clubs: [_world.HostClubId, _world.FederatedClubId]));
        var joined = await ActiveClubsAsync("REF-1");
        await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1", version: 2, clubs: [_world.HostClubId]));

        Assert.Equal([_world.HostClubId, _world.FederatedClubId], joined.Order(StringComparer.Ordinal));
        Assert.Equal([_world.HostClubId], await ActiveClubsAsync("REF-1"));
    }

    [Fact]
    public async Task OptInThroughAnAgreementWhoseNoticeRanOut_IsRejectedNamingTheEnd_WhileOneStillUnderNoticeIsAccepted()
    {
        var run = await RunAsync(
            RosterSessionKind.Delta,
            Upsert(1, "REF-1", clubs: [_world.NoticeRanOutClubId]),
            Upsert(2, "REF-2", clubs: [_world.UnderNoticeClubId]),
            Upsert(3, "REF-3", clubs: [_world.HostClubId, _world.NoticeRanOutClubId]));

        Assert.Equal(
            [RosterRejection.NoAgreementWithClub, RosterRejection.None, RosterRejection.NoAgreementWithClub],
            run.Results.Select(result => result.Rejection));
        Assert.Contains($"agreement with club '{_world.NoticeRanOutClubId}' ended at {_world.NoticeRanOutAt:O}", run.Results[0].Message, StringComparison.Ordinal);
        Assert.Equal(["REF-2"], (await HouseholdsAsync()).Keys);
        Assert.Equal([_world.UnderNoticeClubId], await ActiveClubsAsync("REF-2"));
        // The case only a reading as of now catches: the stored row still says Active.
        await using var db = await _services!.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        Assert.Equal(FederationStatus.Active, (await db.FederationAgreements.SingleAsync(agreement => agreement.ClubId == _world.NoticeRanOutClubId)).Status);
    }

    [Fact]
    public async Task BrokenStream_ResumesAfterTheLastCommittedSequence_AndACompletedSessionCannotBeAppliedTwice()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.FullSnapshot, cancellationToken);
        await ApplyBatchAsync(session.Id, _world.LandlordId, [Upsert(1, "REF-1"), Upsert(2, "REF-2")], cancellationToken);
        // The stream broke here. The landlord resumes and, not knowing what was applied, resends from the start.
        var resumed = await Sync.OpenAsync(_world.LandlordId, session.Id, RosterSessionKind.FullSnapshot, cancellationToken);
        var results = await ApplyBatchAsync(session.Id, _world.LandlordId, [Upsert(1, "REF-1"), Upsert(2, "REF-2"), Upsert(3, "REF-3")], cancellationToken);
        var completed = await Sync.CompleteAsync(session.Id, _world.LandlordId, cancellationToken);

        Assert.Equal(2L, resumed.LastSequence);
        Assert.Equal([3L], results.Select(result => result.Sequence));
        Assert.Equal((3L, 3L), (completed.Created, completed.LastSequence));
        var again = await Assert.ThrowsAsync<DomainException>(() =>
            ApplyBatchAsync(session.Id, _world.LandlordId, [Upsert(4, "REF-4")], cancellationToken));
        Assert.Equal(DomainErrorKind.FailedPrecondition, again.Kind);
        Assert.Equal(DomainErrorKind.FailedPrecondition, (await Assert.ThrowsAsync<DomainException>(() =>
            Sync.OpenAsync(_world.LandlordId, session.Id, RosterSessionKind.FullSnapshot, cancellationToken))).Kind);
    }

    [Fact]
    public async Task Writer_KeepsBatchesInOneTransactionUntilCommitted_CommitsThemBeforeRefusingABadBatch_AndDropsWhatItNeverCommitted()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.FullSnapshot, cancellationToken);

        await using (var writer = Sync.BeginWriting(session.Id, _world.LandlordId))
        {
            await writer.ApplyAsync([Upsert(1, "REF-1"), Upsert(2, "REF-2")], cancellationToken);
            // The second batch sees the first one's household, uncommitted, in the same transaction.
            var second = await writer.ApplyAsync([Upsert(3, "REF-3"), Upsert(4, "REF-1")], cancellationToken);
            var pending = writer.PendingItems;
            var seenBeforeCommit = (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence;
            var householdsBeforeCommit = (await HouseholdsAsync()).Count;
            await writer.CommitAsync(cancellationToken);

            Assert.Equal(4, pending);
            Assert.Equal(RosterItemOutcome.Rejected, second[1].Outcome);
            Assert.Equal(RosterRejection.DuplicateReference, second[1].Rejection);
            Assert.Equal((0L, 0), (seenBeforeCommit, householdsBeforeCommit));
            Assert.Equal((4L, 3), ((await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence, (await HouseholdsAsync()).Count));
            Assert.Equal(0, writer.PendingItems);

            // A batch refused as a whole commits the batches before it, then throws.
            await writer.ApplyAsync([Upsert(5, "REF-5")], cancellationToken);
            var refused = await Assert.ThrowsAsync<DomainException>(() => writer.ApplyAsync([Upsert(7, "REF-7"), Upsert(6, "REF-6")], cancellationToken));
            Assert.Equal(DomainErrorKind.InvalidArgument, refused.Kind);
            Assert.Equal(5L, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);

            // Applied but never committed: gone when the writer is disposed (the stream broke).
            await writer.ApplyAsync([Upsert(6, "REF-6")], cancellationToken);
        }

        Assert.Equal(5L, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);
        Assert.Equal(["REF-1", "REF-2", "REF-3", "REF-5"], (await HouseholdsAsync()).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Writer_CommitsByItselfOnceItHoldsMaxItemsPerCommitItems()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.Delta, cancellationToken);
        await using var writer = Sync.BeginWriting(session.Id, _world.LandlordId);

        await writer.ApplyAsync([.. Enumerable.Range(1, 50).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken);
        var beforeTheLimit = (writer.PendingItems, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);
        await writer.ApplyAsync([.. Enumerable.Range(51, 10).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken);
        var atTheLimit = (writer.PendingItems, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);

        Assert.Equal((50, 0L), beforeTheLimit);
        Assert.Equal((0, 60L), atTheLimit);
        Assert.Equal(60, (await HouseholdsAsync()).Count);
    }

    [Fact]
    public async Task Writer_CommitsBeforeABatchThatWouldTakeItsTransactionPastMaxItemsPerCommit_SoABrokenStreamResendsNoMore()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.Delta, cancellationToken);

        (int Pending, long Committed) afterSecond;
        await using (var writer = Sync.BeginWriting(session.Id, _world.LandlordId))
        {
            // Batches of 50 against Roster:MaxItemsPerCommit 60: two in one transaction would hold 100 items.
            await writer.ApplyAsync([.. Enumerable.Range(1, 50).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken);
            await writer.ApplyAsync([.. Enumerable.Range(51, 50).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken);
            afterSecond = (writer.PendingItems, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);

            // The stream breaks here: what it applied since the last commit is lost, and resent from last_sequence.
        }

        Assert.Equal((50, 50L), afterSecond);
        Assert.Equal(50L, (await Sync.GetAsync(_world.LandlordId, session.Id, cancellationToken)).LastSequence);
        Assert.Equal(50, (await HouseholdsAsync()).Count);
    }

    [Fact]
    public async Task MemberTokens_AreListedPageByPage_AndOnlyForTheLandlordsOwnHouseholds()
    {
        var cancellationToken = TestTimeouts.Token();
        var run = await RunAsync(RosterSessionKind.Delta, Upsert(1, "REF-1"), Upsert(2, "REF-2"), Upsert(3, "REF-3"));

        var first = await Sync.ListMemberTokensAsync(_world.LandlordId, null, cancellationToken);
        var second = await Sync.ListMemberTokensAsync(_world.LandlordId, first[^1].Reference, cancellationToken);
        var neighbours = await Sync.ListMemberTokensAsync(_world.NeighbourId, null, cancellationToken);

        Assert.Equal(["REF-1", "REF-2"], first.Select(entry => entry.Reference));
        Assert.Equal(["REF-3"], second.Select(entry => entry.Reference));
        Assert.Equal(run.Results.Select(result => result.MemberToken), first.Concat(second).Select(entry => entry.MemberToken));
        Assert.Empty(neighbours);
    }

    [Fact]
    public async Task AnotherLandlordsSession_IsUnknownToThisLandlord()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.Delta, cancellationToken);

        var error = await Assert.ThrowsAsync<DomainException>(() =>
            ApplyBatchAsync(session.Id, _world.NeighbourId, [Upsert(1, "REF-1")], cancellationToken));

        Assert.Equal(DomainErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task Limits_AreRefusedNamingTheLimit()
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.Delta, cancellationToken);

        var secondOpen = await Assert.ThrowsAsync<DomainException>(() => Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), RosterSessionKind.Delta, cancellationToken));
        var bigBatch = await Assert.ThrowsAsync<DomainException>(() =>
            ApplyBatchAsync(session.Id, _world.LandlordId, [.. Enumerable.Range(1, 51).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken));
        for (var batch = 0; batch < 4; batch++)
        {
            await ApplyBatchAsync(session.Id, _world.LandlordId, [.. Enumerable.Range(batch * 50 + 1, 50).Select(index => Upsert(index, $"REF-{index}"))], cancellationToken);
        }

        var overSession = await Assert.ThrowsAsync<DomainException>(() =>
            ApplyBatchAsync(session.Id, _world.LandlordId, [Upsert(201, "REF-201")], cancellationToken));

        Assert.Equal(DomainErrorKind.LimitExceeded, secondOpen.Kind);
        Assert.Contains("Roster:MaxOpenSessionsPerLandlord is 1", secondOpen.Message, StringComparison.Ordinal);
        Assert.Contains("Roster:MaxItemsPerBatch is 50", bigBatch.Message, StringComparison.Ordinal);
        Assert.Contains("Roster:MaxItemsPerSession (200)", overSession.Message, StringComparison.Ordinal);
        Assert.Equal(200, (await HouseholdsAsync()).Count);
    }

    protected static RosterChange Upsert(long sequence, string reference, long version = 1, int rooms = 3, string[]? clubs = null) =>
        new(sequence, RosterChangeKind.Upsert, reference, version, rooms, false, clubs ?? []);

    private static RosterChange Remove(long sequence, string reference, long version = 1) =>
        new(sequence, RosterChangeKind.Remove, reference, version, 0, false, []);

    /// <summary>One batch in a transaction of its own, committed: a stream's writer used for a single message.</summary>
    private async Task<IReadOnlyList<RosterItemResult>> ApplyBatchAsync(
        Guid sessionId, string landlordId, IReadOnlyList<RosterChange> batch, CancellationToken cancellationToken)
    {
        await using var writer = Sync.BeginWriting(sessionId, landlordId);
        var results = await writer.ApplyAsync(batch, cancellationToken);
        await writer.CommitAsync(cancellationToken);
        return results;
    }

    protected async Task<(RosterSession Session, IReadOnlyList<RosterItemResult> Results)> RunAsync(RosterSessionKind kind, params RosterChange[] changes)
    {
        var cancellationToken = TestTimeouts.Token();
        var session = await Sync.OpenAsync(_world.LandlordId, Guid.NewGuid(), kind, cancellationToken);
        var results = new List<RosterItemResult>();
        await using (var writer = Sync.BeginWriting(session.Id, _world.LandlordId))
        {
            // In messages of at most Roster:MaxItemsPerBatch (50 here), as a stream sends them.
            foreach (var batch in changes.Chunk(50))
            {
                results.AddRange(await writer.ApplyAsync(batch, cancellationToken));
            }

            await writer.CommitAsync(cancellationToken);
        }

        return (await Sync.CompleteAsync(session.Id, _world.LandlordId, cancellationToken), results);
    }

    protected Task<HlmHubDbContext> DbAsync(CancellationToken cancellationToken = default) =>
        _services!.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync(cancellationToken);

    protected async Task<Dictionary<string, Household>> HouseholdsAsync()
    {
        await using var db = await DbAsync();
        return await db.Households.AsNoTracking().Where(household => household.LandlordId == _world.LandlordId)
            .ToDictionaryAsync(household => household.LandlordReference, StringComparer.Ordinal);
    }

    private async Task<List<string>> ActiveClubsAsync(string reference)
    {
        await using var db = await _services!.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        var household = await db.Households.SingleAsync(item => item.LandlordId == _world.LandlordId && item.LandlordReference == reference);
        return await db.Memberships.Where(membership => membership.HouseholdId == household.Id && membership.LeftAt == null)
            .Select(membership => membership.ClubId).ToListAsync();
    }

    /// <summary>
    /// A landlord hosting one club and federated into a neighbour's, a third club it has no agreement with, and two
    /// more neighbour's clubs whose agreements were ended with notice: one run out a week ago (the row still says
    /// Active), one running for another month.
    /// </summary>
    private sealed record World(
        string LandlordId, string NeighbourId, string HostClubId, string FederatedClubId, string ForeignClubId,
        string NoticeRanOutClubId, DateTimeOffset NoticeRanOutAt, string UnderNoticeClubId)
    {
        public static async Task<World> CreateAsync(IDbContextFactory<HlmHubDbContext> factory, CancellationToken cancellationToken)
        {
            var now = SampleWorld.Now;
            var landlord = Landlord.Create("bailleur-a", "Bailleur A", SampleWorld.Siren(), now);
            var neighbour = Landlord.Create("bailleur-b", "Bailleur B", SampleWorld.Siren(), now);
            var hostClub = Club.Create("club-a", "Club A", landlord.Id, ClubKind.TenantClub, null, now);
            var neighbourClub = Club.Create("club-b", "Club B", neighbour.Id, ClubKind.TenantClub, null, now);
            var foreignClub = Club.Create("club-c", "Club C", neighbour.Id, ClubKind.TenantClub, null, now);
            var ranOutClub = Club.Create("club-d", "Club D", neighbour.Id, ClubKind.TenantClub, null, now);
            var underNoticeClub = Club.Create("club-e", "Club E", neighbour.Id, ClubKind.TenantClub, null, now);
            var agreement = Accepted(neighbourClub, landlord.Id, neighbour.Id, now);
            // SampleWorld.Now is in the past: notice given then, ending an hour later, has run out by the test's clock.
            var ranOut = Accepted(ranOutClub, landlord.Id, neighbour.Id, now);
            var ranOutAt = now.AddHours(1);
            ranOut.End(ranOutClub, neighbour.Id, ranOutAt, now);
            var underNotice = Accepted(underNoticeClub, landlord.Id, neighbour.Id, now);
            underNotice.End(underNoticeClub, neighbour.Id, TimeProvider.System.GetUtcNow().AddDays(30), now);
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            db.AddRange(landlord, neighbour, hostClub, neighbourClub, foreignClub, ranOutClub, underNoticeClub, agreement, ranOut, underNotice);
            await db.SaveChangesAsync(cancellationToken);
            return new World(landlord.Id, neighbour.Id, hostClub.Id, neighbourClub.Id, foreignClub.Id, ranOutClub.Id, ranOutAt, underNoticeClub.Id);
        }

        private static FederationAgreement Accepted(Club club, string landlordId, string hostId, DateTimeOffset now)
        {
            var agreement = FederationAgreement.Propose(Guid.NewGuid(), club, landlordId, hostId, now);
            agreement.Accept(club, landlordId, now);
            return agreement;
        }
    }
}

public sealed class SqliteRosterSyncTests() : RosterSyncTests(StorageProvider.Sqlite);

public sealed class PostgresRosterSyncTests() : RosterSyncTests(StorageProvider.Postgres)
{
    /// <summary>
    /// A delta that changes households' rooms changes no indexed column, and the households' pages keep room for the
    /// new row versions (HeapOnlyUpdates): PostgreSQL writes each update on the row's own page without touching an
    /// index. Pages filled to the brim, or an indexed column moved by every change, would make every update write all
    /// four indexes (docs/benchmarks.md).
    /// </summary>
    [Fact]
    public async Task DeltaOfRoomsOnly_AfterAFullSnapshotFilledThePages_IsWrittenAsHeapOnlyUpdates()
    {
        var cancellationToken = TestTimeouts.Token();
        var references = Enumerable.Range(1, 200).Select(index => $"REF-{index:D3}").ToList();
        await RunAsync(RosterSessionKind.FullSnapshot, [.. references.Select((reference, index) => Upsert(index + 1, reference))]);
        var before = await UpdatesOfHouseholdsAsync(0, cancellationToken);

        // One household in twenty: about two per page of the table.
        var changed = references.Where((_, index) => index % 20 == 0).ToList();
        var delta = await RunAsync(RosterSessionKind.Delta, [.. changed.Select((reference, index) => Upsert(index + 1, reference, version: 2, rooms: 6))]);

        var after = await UpdatesOfHouseholdsAsync(before.Updated + changed.Count, cancellationToken);
        Assert.Equal(changed.Count, delta.Session.Updated);
        Assert.Equal(changed.Count, after.Updated - before.Updated);
        Assert.Equal(changed.Count, after.HeapOnly - before.HeapOnly);
    }

    /// <summary>
    /// The households table's update counters, read until they reach <paramref name="atLeast"/> updates: a server
    /// process publishes its counters shortly after its transaction ends, not at once.
    /// </summary>
    private async Task<TableUpdates> UpdatesOfHouseholdsAsync(long atLeast, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var db = await DbAsync(cancellationToken);
            var updates = await db.Database
                .SqlQueryRaw<TableUpdates>("SELECT n_tup_upd AS \"Updated\", n_tup_hot_upd AS \"HeapOnly\" FROM pg_stat_user_tables WHERE relname = 'Households'")
                .SingleAsync(cancellationToken);
            if (updates.Updated >= atLeast)
            {
                return updates;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private sealed class TableUpdates
    {
        public long Updated { get; init; }

        public long HeapOnly { get; init; }
    }
}
