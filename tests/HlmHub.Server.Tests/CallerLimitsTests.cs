using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>A hub on PostgreSQL allowing two redemption streams per partner and one reconciliation run per club.</summary>
public sealed class CallerLimitsHubFixture : IAsyncLifetime
{
    public const int MaxStreams = 2;

    private TestDatabase? _database;

    internal HubHost Hub { get; private set; } = null!;

    internal AdminClient HubAdmin { get; private set; } = null!;

    internal string ConnectionString => _database!.ConnectionString;

    public async Task InitializeAsync()
    {
        // PostgreSQL: a reconciliation run is held in place by a row lock of the test's (PostgresHold).
        _database = await TestDatabase.CreateAsync(TestProvider.Postgres);
        Hub = await HubHost.StartAsync(_database, $"--Redemptions:MaxStreamsPerPartner={MaxStreams}", "--Reconciliation:MaxConcurrentRunsPerClub=1");
        HubAdmin = await Hub.HubAdminAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Hub.DisposeAsync();
        }
        finally
        {
            await _database!.DisposeAsync();
        }
    }
}

/// <summary>
/// What one caller may hold open on an instance, over real HTTP/2 with real tokens: one more stream or run is
/// RESOURCE_EXHAUSTED naming the setting, other callers are not held back, and a slot comes back when its call ends.
/// </summary>
public sealed class CallerLimitsTests(CallerLimitsHubFixture fixture) : IClassFixture<CallerLimitsHubFixture>
{
    private const string October = "2026-10";

    private HubHost Hub => fixture.Hub;

    [Fact]
    public async Task APartnerOverItsRedemptionStreams_IsResourceExhausted_AnotherPartnerIsNot_AndAClosedStreamFreesItsSlot()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var neighbour = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var open = new List<AsyncDuplexStreamingCall<RedemptionEvent, RedemptionAck>>();
        try
        {
            for (var index = 0; index < CallerLimitsHubFixture.MaxStreams; index++)
            {
                // Acknowledged: the hub has taken the stream, and holds its slot.
                open.Add(await OpenWithOneAcceptedAsync(world));
            }

            using (var oneTooMany = world.Client().StreamRedemptions(world.Options()))
            {
                // The refusal ends the call as it opens, before the hub reads anything: read its status first. (A write
                // racing with the refusal could fail on the client's side with CANCELLED instead.)
                var refused = await Assert.ThrowsAsync<RpcException>(() => oneTooMany.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
                Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
                Assert.Contains($"Redemptions:MaxStreamsPerPartner is {CallerLimitsHubFixture.MaxStreams}", refused.Status.Detail, StringComparison.Ordinal);
            }

            using (var others = await OpenWithOneAcceptedAsync(neighbour))
            {
                await others.RequestStream.CompleteAsync();
                Assert.False(await others.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            }

            await open[0].RequestStream.CompleteAsync();
            Assert.False(await open[0].ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            using var again = await OpenWithOneAcceptedAsync(world);
            await again.RequestStream.CompleteAsync();
            Assert.False(await again.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        }
        finally
        {
            foreach (var call in open)
            {
                call.Dispose();
            }
        }

        // The world's club: its two held streams and the one opened after the slot came back (the neighbour books in its own club).
        Assert.Equal((3, 0), await world.LedgerCheckAsync());
    }

    [Fact]
    public async Task ASecondReconciliationOfAClub_WhileOneRuns_IsResourceExhausted_AnotherClubRuns_AndTheClubCanRunOnceItEnds()
    {
        var busy = await ClubWithAdminAsync();
        var other = await ClubWithAdminAsync();
        await using (var hold = await PostgresHold.LockClubAsync(fixture.ConnectionString, busy.ClubId))
        {
            // Recorded (not dry), so it waits on the held club row when it records itself, holding its slot.
            using var running = busy.Run();
            var runningUpdates = running.ResponseStream.ReadAllAsync().ToListAsync().AsTask();
            await hold.WaitUntilSomeoneWaitsAsync();

            using var second = busy.Run();
            var refused = await Assert.ThrowsAsync<RpcException>(() => second.ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout());
            var otherUpdates = await other.Run().ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();

            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Contains("Reconciliation:MaxConcurrentRunsPerClub is 1", refused.Status.Detail, StringComparison.Ordinal);
            Assert.NotEmpty(otherUpdates[^1].Report.RunId);
            Assert.False(runningUpdates.IsCompleted);
            await hold.DisposeAsync();
            Assert.NotEmpty((await runningUpdates.DefaultTimeout())[^1].Report.RunId);
        }

        var afterwards = await busy.Run().ResponseStream.ReadAllAsync().ToListAsync().AsTask().DefaultTimeout();
        Assert.NotEmpty(afterwards[^1].Report.RunId);
    }

    private static async Task<AsyncDuplexStreamingCall<RedemptionEvent, RedemptionAck>> OpenWithOneAcceptedAsync(RedemptionWorld world)
    {
        var call = world.Client().StreamRedemptions(world.Options());
        await call.RequestStream.WriteAsync(world.Event(await world.AddMemberAsync(), 1_000, 100));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        Assert.Equal(RedemptionOutcome.Accepted, call.ResponseStream.Current.Outcome);
        return call;
    }

    private async Task<ClubAdministration> ClubWithAdminAsync()
    {
        var landlord = await fixture.HubAdmin.CreateLandlordAsync(SampleData.Landlord());
        var club = await fixture.HubAdmin.CreateClubAsync(SampleData.Club(landlord.Id));
        var clubAdmin = await fixture.HubAdmin.RegisterClubAdminAsync(club.Id);
        var token = await Hub.GetTokenAsync(clubAdmin.Client.ClientId, clubAdmin.ClientSecret);
        return new ClubAdministration(club.Id, new AdminService.AdminServiceClient(Hub.Channel), token);
    }

    private sealed record ClubAdministration(string ClubId, AdminService.AdminServiceClient Client, string Token)
    {
        public AsyncServerStreamingCall<RunReconciliationUpdate> Run() => Client.RunReconciliation(
            new RunReconciliationRequest { ClubId = ClubId, Period = October },
            new CallOptions(new Metadata { { "authorization", "Bearer " + Token } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default)));
    }
}
