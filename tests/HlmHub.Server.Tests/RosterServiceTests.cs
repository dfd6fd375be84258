using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using static HlmHub.Server.Tests.Infrastructure.RosterCalls;

namespace HlmHub.Server.Tests;

/// <summary>RosterService as a landlord's system uses it, against the real hub on SQLite.</summary>
public sealed class RosterServiceSqliteTests(SqliteHubFixture fixture) : RosterServiceTests(fixture), IClassFixture<SqliteHubFixture>;

/// <summary>The same tests against the real hub on PostgreSQL.</summary>
public sealed class RosterServicePostgresTests(PostgresHubFixture fixture) : RosterServiceTests(fixture), IClassFixture<PostgresHubFixture>;

/// <summary>
/// <c>hlmhub.v1.RosterService</c> over real HTTP/2 with real landlord tokens: a session streamed, its problems
/// reported, a broken stream resumed, member tokens listed, and what a landlord's token cannot do.
/// </summary>
public abstract class RosterServiceTests(HubFixture fixture)
{
    private HubHost Hub => fixture.Hub;

    [Fact]
    public async Task FullSnapshot_Streamed_CreatesHouseholds_ReportsItsProblems_AndTheirMemberTokensAreListed()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();

        var response = await SyncAsync(landlord, sessionId, SessionKind.FullSnapshot,
            [Item(1, "A-001"), Item(2, "A-002", rooms: 8), Item(3, "A-003"), Item(4, "A-001")],
            [Item(5, "A-005", clubs: [landlord.ClubId])]);
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.True(response.Session.Completed);
        Assert.Equal((3L, 2L, 5L), (response.Session.Created, response.Session.Rejected, response.Session.LastSequence));
        Assert.Equal(
            [(2L, RejectionReason.RoomsOutOfRange), (4L, RejectionReason.DuplicateReference)],
            response.Problems.Select(problem => (problem.Sequence, problem.Reason)));
        Assert.All(response.Problems, problem => Assert.Contains(":", problem.Message, StringComparison.Ordinal));
        Assert.Equal(["A-001", "A-003", "A-005"], tokens.Select(entry => entry.LandlordReference));
        Assert.All(tokens, entry => Assert.StartsWith("mt_", entry.MemberToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BrokenStream_IsResumedWithTheSameSessionId_WithoutApplyingAnythingTwice()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();
        var client = Roster;

        // The first stream sends one batch, then breaks (the client cancels) before `complete`.
        using (var cancel = new CancellationTokenSource())
        using (var call = client.SyncRoster(Options(landlord.Token, cancel.Token)))
        {
            await call.RequestStream.WriteAsync(Start(sessionId, SessionKind.FullSnapshot));
            await call.RequestStream.WriteAsync(Batch(Item(1, "B-001"), Item(2, "B-002")));
            await WaitForLastSequenceAsync(client, landlord.Token, sessionId, 2);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => call.ResponseAsync);
        }

        var progress = await client.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(landlord.Token));
        // The landlord resends everything with the same session id; the hub skips what it has.
        var resumed = await SyncAsync(landlord, sessionId, SessionKind.FullSnapshot, [Item(1, "B-001"), Item(2, "B-002"), Item(3, "B-003")]);
        var again = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(landlord, sessionId, SessionKind.FullSnapshot, [Item(4, "B-004")]));

        Assert.Equal((2L, false), (progress.LastSequence, progress.Completed));
        Assert.Equal((3L, 3L, true), (resumed.Session.Created, resumed.Session.LastSequence, resumed.Session.Completed));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.Contains("cannot be applied twice", again.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoStreamsOfOneSession_TheOneBehindSkipsWhatTheOtherCommitted_SoNothingIsAppliedTwice()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();
        using var behind = Roster.SyncRoster(Options(landlord.Token));
        await behind.RequestStream.WriteAsync(Start(sessionId, SessionKind.Delta));
        await behind.RequestStream.WriteAsync(Batch(Item(1, "T-001"), Item(2, "T-002")));
        await WaitForLastSequenceAsync(Roster, landlord.Token, sessionId, 2);

        // A second stream of the same session goes further meanwhile, and ends without `complete`.
        using (var ahead = Roster.SyncRoster(Options(landlord.Token)))
        {
            await ahead.RequestStream.WriteAsync(Start(sessionId, SessionKind.Delta));
            await ahead.RequestStream.WriteAsync(Batch(Item(1, "T-001"), Item(2, "T-002"), Item(3, "T-003"), Item(4, "T-004")));
            await ahead.RequestStream.CompleteAsync();
            Assert.Equal(4L, (await ahead.ResponseAsync.DefaultTimeout()).Session.LastSequence);
        }

        // Item 3 as the first stream would have sent it, with other rooms: the session has it already, so it is skipped.
        await behind.RequestStream.WriteAsync(Batch(Item(3, "T-003", rooms: 5), Item(5, "T-005")));
        await behind.RequestStream.CompleteAsync();
        var answer = await behind.ResponseAsync.DefaultTimeout();
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.Equal((5L, 5L, false), (answer.Session.LastSequence, answer.Session.Created, answer.Session.Completed));
        Assert.Equal(["T-001", "T-002", "T-003", "T-004", "T-005"], tokens.Select(entry => entry.LandlordReference));
    }

    [Fact]
    public async Task BrokenStream_Resumed_ListsTheProblemsOfTheItemsTheBrokenStreamCommitted()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();
        var client = Roster;
        HouseholdChange[] items = [Item(1, "P-001", rooms: 8), Item(2, "P-002")];

        // The first stream decides both items, commits them, then breaks before `complete`.
        using (var cancel = new CancellationTokenSource())
        using (var call = client.SyncRoster(Options(landlord.Token, cancel.Token)))
        {
            await call.RequestStream.WriteAsync(Start(sessionId, SessionKind.FullSnapshot));
            await call.RequestStream.WriteAsync(Batch(items));
            await WaitForLastSequenceAsync(client, landlord.Token, sessionId, 2);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => call.ResponseAsync);
        }

        // The resend skips both: the refusal of P-001 was decided by the broken stream alone.
        var resumed = await SyncAsync(landlord, sessionId, SessionKind.FullSnapshot, items);

        Assert.Equal((1L, 1L, true), (resumed.Session.Created, resumed.Session.Rejected, resumed.Session.Completed));
        var problem = Assert.Single(resumed.Problems);
        Assert.Equal((1L, "P-001", ItemStatus.Rejected, RejectionReason.RoomsOutOfRange),
            (problem.Sequence, problem.LandlordReference, problem.Status, problem.Reason));
        Assert.StartsWith("rooms:", problem.Message, StringComparison.Ordinal);
        Assert.False(resumed.ProblemsTruncated);
    }

    [Fact]
    public async Task ProblemsPastMaxProblemsReported_AreCountedNotListed_AcrossTheStreamsOfASession()
    {
        const int maxProblems = 3;
        await using var database = await TestDatabase.CreateAsync(fixture.Provider);
        await using var hub = await HubHost.StartAsync(database, $"--Roster:MaxProblemsReported={maxProblems}");
        var landlord = await NewLandlordAsync(hub);
        var client = new RosterService.RosterServiceClient(hub.Channel);
        var sessionId = Guid.NewGuid().ToString();
        HouseholdChange[] first = [Item(1, "T-001", rooms: 0), Item(2, "T-002", rooms: 9), Item(3, "T-003")];
        HouseholdChange[] second = [Item(4, "T-004", rooms: 8), Item(5, "T-005", rooms: 8), Item(6, "T-006", rooms: 8), Item(7, "T-007")];

        // The first stream ends without `complete`: the session stays open with two problems kept.
        SyncRosterResponse partial;
        using (var call = client.SyncRoster(Options(landlord.Token)))
        {
            await call.RequestStream.WriteAsync(Start(sessionId, SessionKind.Delta));
            await call.RequestStream.WriteAsync(Batch(first));
            await call.RequestStream.CompleteAsync();
            partial = await call.ResponseAsync.DefaultTimeout();
        }

        var completed = await RosterCalls.SyncAsync(client, landlord.Token, sessionId, SessionKind.Delta, [first, second]);

        Assert.Equal([1L, 2L], partial.Problems.Select(problem => problem.Sequence));
        Assert.False(partial.ProblemsTruncated);
        Assert.Equal((2L, 5L, 7L, true), (completed.Session.Created, completed.Session.Rejected, completed.Session.LastSequence, completed.Session.Completed));
        Assert.Equal([1L, 2L, 4L], completed.Problems.Select(problem => problem.Sequence));
        Assert.All(completed.Problems, problem => Assert.Equal(RejectionReason.RoomsOutOfRange, problem.Reason));
        Assert.True(completed.ProblemsTruncated);
    }

    [Fact]
    public async Task BatchRefusedAsAWhole_EndsTheStream_AfterCommittingTheBatchesSentBeforeIt()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();

        // Sent in one go: the first two batches may still share an uncommitted transaction when the third, whose
        // sequences go backwards, is refused.
        var refused = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(landlord, sessionId, SessionKind.FullSnapshot,
            [Item(1, "E-001"), Item(2, "E-002")], [Item(3, "E-003"), Item(4, "E-004")], [Item(6, "E-006"), Item(5, "E-005")]));
        var progress = await Roster.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(landlord.Token));
        var resumed = await SyncAsync(landlord, sessionId, SessionKind.FullSnapshot, [Item(5, "E-005"), Item(6, "E-006")]);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("sequences must strictly increase", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((4L, false), (progress.LastSequence, progress.Completed));
        Assert.Equal((6L, 6L, true), (resumed.Session.Created, resumed.Session.LastSequence, resumed.Session.Completed));
    }

    [Fact]
    public async Task ABatchWithAnItemOutOfOrderAtOrBeforeLastSequence_IsRefused_AndNothingOfItIsWritten()
    {
        var landlord = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();

        // After the first batch the session is at 4. In the second, 4 comes after 6: not a resend (a resend is the
        // batch's first items), so it must not be skipped as already applied while 6 and 8 are written.
        var refused = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(landlord, sessionId, SessionKind.FullSnapshot,
            [Item(1, "E-001"), Item(2, "E-002"), Item(3, "E-003"), Item(4, "E-004")], [Item(6, "E-006"), Item(4, "E-007"), Item(7, "E-008")]));
        var progress = await Roster.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(landlord.Token));
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("sequences must strictly increase (4 after 6)", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((4L, false), (progress.LastSequence, progress.Completed));
        Assert.Equal(["E-001", "E-002", "E-003", "E-004"], tokens.Select(entry => entry.LandlordReference));
    }

    [Fact]
    public async Task ItemsWithoutASequence_AreRefusedAsABatch_AndAFullSnapshotOfThemMarksNoHouseholdLeft()
    {
        var landlord = await NewLandlordAsync();
        await SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.FullSnapshot, [Item(1, "S-001"), Item(2, "S-002")]);
        var sessionId = Guid.NewGuid().ToString();

        // Protobuf's default for an unset sequence is 0: a client that forgot it sends the whole roster that way.
        var refused = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(landlord, sessionId, SessionKind.FullSnapshot,
            [Item(0, "S-001"), Item(0, "S-002")]));
        var progress = await Roster.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(landlord.Token));
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("every item needs a sequence of 1 or more; item 1 of this batch ('S-001') has 0", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((0L, false), (progress.LastSequence, progress.Completed));
        Assert.Equal([("S-001", true), ("S-002", true)], tokens.Select(entry => (entry.LandlordReference, entry.Active)));
    }

    [Fact]
    public async Task AnOversizedReference_IsRejected_AndEchoedCut_SoTheSessionsAnswerStillFits()
    {
        var landlord = await NewLandlordAsync();
        // Two references of 1.5 MiB each: echoed whole, the answer (3 MiB and more) would pass the gRPC limit of 4 MiB
        // only just, and a few more would not; cut, it stays small.
        var huge = new string('R', 1_536 * 1_024);

        var response = await SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.Delta, [Item(1, huge)], [Item(2, huge + "2")]);

        Assert.True(response.Session.Completed);
        Assert.Equal((0L, 2L), (response.Session.Created, response.Session.Rejected));
        Assert.All(response.Problems, problem => Assert.Equal(RejectionReason.Malformed, problem.Reason));
        Assert.All(response.Problems, problem => Assert.Equal(new string('R', 100) + "…", problem.LandlordReference));
        Assert.True(response.CalculateSize() < 10_000, $"the answer is {response.CalculateSize()} bytes");
    }

    [Fact]
    public async Task AnItemWithAControlCharacter_IsRejectedAlone_AndTheOthersOfItsBatchApply()
    {
        var landlord = await NewLandlordAsync();

        // PostgreSQL cannot take a NUL in a query: looked up with the batch, it failed the whole stream INTERNAL.
        var response = await SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.Delta,
            [Item(1, "C-001\0"), Item(2, "C-002", clubs: ["club\0"]), Item(3, "C-003")]);
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.True(response.Session.Completed);
        Assert.Equal((1L, 2L), (response.Session.Created, response.Session.Rejected));
        Assert.Equal([1L, 2L], response.Problems.Select(problem => problem.Sequence));
        Assert.All(response.Problems, problem => Assert.Equal(RejectionReason.Malformed, problem.Reason));
        // Kept with the session, where PostgreSQL cannot store a NUL: repeated as U+FFFD on every database.
        Assert.Equal(["C-001\uFFFD", "C-002"], response.Problems.Select(problem => problem.LandlordReference));
        Assert.DoesNotContain('\0', response.Problems[1].Message);
        Assert.Equal(["C-003"], tokens.Select(entry => entry.LandlordReference));
    }

    [Fact]
    public async Task AReferenceOrClubIdWhoseCutWouldSplitAnEmoji_IsRejectedAlone_AndTheSessionCompletes()
    {
        var landlord = await NewLandlordAsync();

        // Both are too long, and cut where they are repeated (the reference after 100 characters, the club id in the
        // message after 40): the cut used to keep the high half of 😀 alone, which PostgreSQL refused, so the stream
        // ended INTERNAL and its resume replayed it.
        var response = await SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.Delta,
            [Item(1, new string('R', 99) + "😀x"), Item(2, "U-002", clubs: [new string('c', 39) + "😀"]), Item(3, "U-003")]);
        var tokens = await ListMemberTokensAsync(landlord);

        Assert.True(response.Session.Completed);
        Assert.Equal((1L, 2L), (response.Session.Created, response.Session.Rejected));
        Assert.Equal([1L, 2L], response.Problems.Select(problem => problem.Sequence));
        Assert.All(response.Problems, problem => Assert.Equal(RejectionReason.Malformed, problem.Reason));
        // Cut before the emoji: a whole character or none of it.
        Assert.Equal([new string('R', 99) + "…", "U-002"], response.Problems.Select(problem => problem.LandlordReference));
        Assert.Equal($"club_ids: '{new string('c', 39)}…' is not a club id", response.Problems[1].Message);
        Assert.Equal(["U-003"], tokens.Select(entry => entry.LandlordReference));
    }

    [Fact]
    public async Task OtherCallers_CannotSyncOrReadALandlordsRoster()
    {
        var landlord = await NewLandlordAsync();
        var other = await NewLandlordAsync();
        var sessionId = Guid.NewGuid().ToString();
        await SyncAsync(landlord, sessionId, SessionKind.Delta, [Item(1, "C-001")]);

        var othersView = await Assert.ThrowsAsync<RpcException>(() =>
            Roster.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = sessionId }, Options(other.Token)).ResponseAsync);
        var adminToken = await AdminTokenAsync();
        var adminSync = await Assert.ThrowsAsync<RpcException>(() => SyncWithTokenAsync(adminToken, Guid.NewGuid().ToString(), [Item(1, "C-002")]));
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => SyncWithTokenAsync(null, Guid.NewGuid().ToString(), [Item(1, "C-003")]));

        Assert.Equal(StatusCode.NotFound, othersView.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, adminSync.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        Assert.Empty(await ListMemberTokensAsync(other));
    }

    [Fact]
    public async Task OverTheLimits_IsResourceExhaustedNamingTheLimit_AndMalformedStreamsAreInvalidArgument()
    {
        var landlord = await NewLandlordAsync();
        var limits = await Roster.GetRosterLimitsAsync(new GetRosterLimitsRequest(), Options(landlord.Token));

        var tooBig = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.Delta,
            [.. Enumerable.Range(1, limits.MaxItemsPerBatch + 1).Select(index => Item(index, $"D-{index:00000}"))]));
        var noStart = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = Roster.SyncRoster(Options(landlord.Token));
            await call.RequestStream.WriteAsync(Batch(Item(1, "D-1")));
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        });

        Assert.Equal((1_000, 10_000), (limits.MaxItemsPerBatch, limits.MaxItemsPerCommit));
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);
        Assert.Contains("Roster:MaxItemsPerBatch is 1000", tooBig.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, noStart.StatusCode);
        Assert.StartsWith("start:", noStart.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListMemberTokens_AfterAReferenceWithAControlCharacter_IsInvalidArgument_AndTheHubKeepsServing()
    {
        var landlord = await NewLandlordAsync();
        await SyncAsync(landlord, Guid.NewGuid().ToString(), SessionKind.Delta, [Item(1, "N-001"), Item(2, "N-002")]);

        // PostgreSQL cannot take a NUL in a query: sent on, the call ended INTERNAL.
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = Roster.ListMemberTokens(new ListMemberTokensRequest { AfterReference = "N-001\0" }, Options(landlord.Token));
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
            }
        });
        using var after = Roster.ListMemberTokens(new ListMemberTokensRequest { AfterReference = "N-001" }, Options(landlord.Token));
        Assert.True(await after.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith("after_reference:", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(["N-002"], after.ResponseStream.Current.Entries.Select(entry => entry.LandlordReference));
        Assert.Equal(["N-001", "N-002"], (await ListMemberTokensAsync(landlord)).Select(entry => entry.LandlordReference));
    }

    private sealed record LandlordClient(string LandlordId, string ClubId, string Token);

    private Task<LandlordClient> NewLandlordAsync() => NewLandlordAsync(Hub);

    private static async Task<LandlordClient> NewLandlordAsync(HubHost hub)
    {
        var admin = await hub.HubAdminAsync();
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Roster sync",
            LandlordId = landlord.Id,
            Scopes = { "hlmhub.roster" },
        }, options));
        return new LandlordClient(landlord.Id, club.Id, await hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret));
    }

    private async Task<string> AdminTokenAsync()
    {
        var (clientId, secret) = Hub.BootstrapAdmin();
        return await Hub.GetTokenAsync(clientId, secret);
    }

    private RosterService.RosterServiceClient Roster => new(Hub.Channel);

    private Task<SyncRosterResponse> SyncAsync(LandlordClient landlord, string sessionId, SessionKind kind, params HouseholdChange[][] batches) =>
        SyncWithTokenAsync(landlord.Token, sessionId, kind, batches);

    private Task<SyncRosterResponse> SyncWithTokenAsync(string? token, string sessionId, params HouseholdChange[][] batches) =>
        SyncWithTokenAsync(token, sessionId, SessionKind.Delta, batches);

    private Task<SyncRosterResponse> SyncWithTokenAsync(string? token, string sessionId, SessionKind kind, HouseholdChange[][] batches) =>
        RosterCalls.SyncAsync(Roster, token, sessionId, kind, batches);

    private Task<List<MemberTokenEntry>> ListMemberTokensAsync(LandlordClient landlord) => RosterCalls.ListMemberTokensAsync(Roster, landlord.Token);
}
