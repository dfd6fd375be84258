using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using static HlmHub.Server.Tests.Infrastructure.RosterCalls;

namespace HlmHub.Server.Tests;

/// <summary>A hub allowing two open roster sessions per landlord, idle after a few seconds.</summary>
public abstract class RosterSessionLimitHubFixture : IAsyncLifetime
{
    public const int MaxOpenSessions = 2;

    /// <summary>Long enough for a test's sessions to stay open while it runs on a busy machine, short enough to wait out.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(8);

    private TestDatabase? _database;

    internal abstract TestProvider Provider { get; }

    internal HubHost Hub { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Provider);
        Hub = await HubHost.StartAsync(_database, $"--Roster:MaxOpenSessionsPerLandlord={MaxOpenSessions}", $"--Roster:SessionIdleTimeout={IdleTimeout}");
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

public sealed class SqliteRosterSessionLimitHubFixture : RosterSessionLimitHubFixture
{
    internal override TestProvider Provider => TestProvider.Sqlite;
}

public sealed class PostgresRosterSessionLimitHubFixture : RosterSessionLimitHubFixture
{
    internal override TestProvider Provider => TestProvider.Postgres;
}

public sealed class RosterSessionLimitSqliteTests(SqliteRosterSessionLimitHubFixture fixture)
    : RosterSessionLimitTests(fixture), IClassFixture<SqliteRosterSessionLimitHubFixture>;

public sealed class RosterSessionLimitPostgresTests(PostgresRosterSessionLimitHubFixture fixture)
    : RosterSessionLimitTests(fixture), IClassFixture<PostgresRosterSessionLimitHubFixture>;

/// <summary>
/// The open sessions of a landlord, over real HTTP/2: their limit holds against concurrent starts, an idle session
/// takes nothing more (so a full snapshot left idle cannot mark as left what a later session wrote), and a session
/// that must not be completed can be abandoned.
/// </summary>
public abstract class RosterSessionLimitTests(RosterSessionLimitHubFixture fixture)
{
    private HubHost Hub => fixture.Hub;

    private RosterService.RosterServiceClient Roster => new(Hub.Channel);

    [Fact]
    public async Task ManySessionsStartedAtOnce_OpenExactlyTheLimit_TheRestAreResourceExhaustedNamingTheOpenOnes()
    {
        var token = await NewLandlordTokenAsync();
        const int starts = 8;
        var calls = Enumerable.Range(0, starts).Select(_ => Roster.SyncRoster(Options(token))).ToList();
        var ids = calls.Select(_ => Guid.NewGuid().ToString()).ToList();
        try
        {
            // Every start is sent before any answer is read: the hub receives them at about the same moment.
            await Task.WhenAll(calls.Select(async (call, index) =>
            {
                await call.RequestStream.WriteAsync(Start(ids[index], SessionKind.Delta));
                await call.RequestStream.CompleteAsync();
            }));
            var outcomes = await Task.WhenAll(calls.Select(async call =>
            {
                try
                {
                    return (Response: await call.ResponseAsync.DefaultTimeout(), Error: (RpcException?)null);
                }
                catch (RpcException exception)
                {
                    return (Response: (SyncRosterResponse?)null, Error: exception);
                }
            }));

            var opened = outcomes.Where(outcome => outcome.Response is not null).Select(outcome => outcome.Response!.Session.SessionId).ToList();
            var refused = outcomes.Where(outcome => outcome.Error is not null).Select(outcome => outcome.Error!).ToList();
            Assert.Equal(RosterSessionLimitHubFixture.MaxOpenSessions, opened.Count);
            Assert.All(refused, error => Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode));
            Assert.Equal(starts - RosterSessionLimitHubFixture.MaxOpenSessions, refused.Count);
            Assert.All(refused, error => Assert.All(opened, id => Assert.Contains(id, error.Status.Detail, StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }
    }

    [Fact]
    public async Task AnIdleSession_TakesNoMoreBatches_AndCannotComplete_SoItMarksNothingAnotherSessionWroteAsLeft()
    {
        var token = await NewLandlordTokenAsync();
        await SyncAsync(token, Guid.NewGuid().ToString(), SessionKind.Delta, [Item(1, "X-1"), Item(2, "X-2"), Item(3, "X-3")]);
        var fullA = Guid.NewGuid().ToString();
        var fullB = Guid.NewGuid().ToString();
        using var callA = Roster.SyncRoster(Options(token));
        using var callB = Roster.SyncRoster(Options(token));
        foreach (var (call, id) in new[] { (callA, fullA), (callB, fullB) })
        {
            await call.RequestStream.WriteAsync(Start(id, SessionKind.FullSnapshot));
            await call.RequestStream.WriteAsync(Batch(Item(1, "X-1"), Item(2, "X-2"), Item(3, "X-3")));
            await WaitForLastSequenceAsync(Roster, token, id, 3);
        }

        // Both snapshots' streams stay open, idle past the timeout; they no longer count, so a delta opens and writes.
        await Task.Delay(RosterSessionLimitHubFixture.IdleTimeout + TimeSpan.FromSeconds(1));
        var delta = await SyncAsync(token, Guid.NewGuid().ToString(), SessionKind.Delta, [Item(1, "X-1", version: 2, rooms: 5), Item(2, "X-4")]);
        await SendAndEndAsync(callA, Batch(Item(4, "X-5")));
        var batchRefused = await Assert.ThrowsAsync<RpcException>(() => callA.ResponseAsync.DefaultTimeout());
        await SendAndEndAsync(callB, new SyncRosterRequest { Complete = new SessionComplete() });
        var completeRefused = await Assert.ThrowsAsync<RpcException>(() => callB.ResponseAsync.DefaultTimeout());
        var tokens = await ListMemberTokensAsync(Roster, token);

        Assert.True(delta.Session.Completed);
        Assert.Equal(StatusCode.FailedPrecondition, batchRefused.StatusCode);
        Assert.Contains("idle for more than Roster:SessionIdleTimeout (00:00:08)", batchRefused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, completeRefused.StatusCode);
        Assert.Contains("idle for more than Roster:SessionIdleTimeout (00:00:08)", completeRefused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal([("X-1", true), ("X-2", true), ("X-3", true), ("X-4", true)], tokens.Select(entry => (entry.LandlordReference, entry.Active)));
    }

    [Fact]
    public async Task AnAbandonedSession_AppliesNothingMore_AndFreesItsSlot_AndTheRefusalSaysHowToGetOut()
    {
        var token = await NewLandlordTokenAsync();
        var otherToken = await NewLandlordTokenAsync();
        await SyncAsync(token, Guid.NewGuid().ToString(), SessionKind.Delta, [Item(1, "Y-1"), Item(2, "Y-2")]);

        // A full snapshot whose first batch is refused: completed, it would mark Y-1 and Y-2 as left.
        var snapshot = Guid.NewGuid().ToString();
        var badBatch = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(token, snapshot, SessionKind.FullSnapshot, [Item(0, "Y-1")]));
        // A delta whose stream is still open, one batch committed.
        var delta = Guid.NewGuid().ToString();
        using var deltaCall = Roster.SyncRoster(Options(token));
        await deltaCall.RequestStream.WriteAsync(Start(delta, SessionKind.Delta));
        await deltaCall.RequestStream.WriteAsync(Batch(Item(1, "Y-3")));
        await WaitForLastSequenceAsync(Roster, token, delta, 1);

        var third = Guid.NewGuid().ToString();
        var full = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(token, third, SessionKind.Delta, [Item(1, "Y-5")]));
        var abandoned = await Roster.AbandonSyncSessionAsync(new AbandonSyncSessionRequest { SessionId = snapshot }, Options(token));
        var again = await Roster.AbandonSyncSessionAsync(new AbandonSyncSessionRequest { SessionId = snapshot }, Options(token));
        var deltaAbandoned = await Roster.AbandonSyncSessionAsync(new AbandonSyncSessionRequest { SessionId = delta }, Options(token));
        await SendAndEndAsync(deltaCall, Batch(Item(2, "Y-4")), new SyncRosterRequest { Complete = new SessionComplete() });
        var deltaRefused = await Assert.ThrowsAsync<RpcException>(() => deltaCall.ResponseAsync.DefaultTimeout());
        var freed = await SyncAsync(token, third, SessionKind.Delta, [Item(1, "Y-5")]);
        var resumed = await Assert.ThrowsAsync<RpcException>(() => SyncAsync(token, snapshot, SessionKind.FullSnapshot, [Item(1, "Y-1")]));
        var completed = await Assert.ThrowsAsync<RpcException>(() =>
            Roster.AbandonSyncSessionAsync(new AbandonSyncSessionRequest { SessionId = third }, Options(token)).ResponseAsync);
        var notTheirs = await Assert.ThrowsAsync<RpcException>(() =>
            Roster.AbandonSyncSessionAsync(new AbandonSyncSessionRequest { SessionId = delta }, Options(otherToken)).ResponseAsync);
        var progress = await Roster.GetSyncSessionAsync(new GetSyncSessionRequest { SessionId = snapshot }, Options(token));
        var tokens = await ListMemberTokensAsync(Roster, token);

        Assert.Equal(StatusCode.InvalidArgument, badBatch.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.Contains($"{snapshot} (full snapshot, last_sequence 0)", full.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"{delta} (delta, last_sequence 1)", full.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("complete it only if it is a delta", full.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("abandon it with AbandonSyncSession", full.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((true, false), (abandoned.Abandoned, abandoned.Completed));
        Assert.Equal(abandoned, again);
        Assert.Equal((true, 1L), (deltaAbandoned.Abandoned, deltaAbandoned.LastSequence));
        Assert.Equal(StatusCode.FailedPrecondition, deltaRefused.StatusCode);
        Assert.Contains($"session {delta} was abandoned", deltaRefused.Status.Detail, StringComparison.Ordinal);
        Assert.True(freed.Session.Completed);
        Assert.Equal(StatusCode.FailedPrecondition, resumed.StatusCode);
        Assert.Contains($"session {snapshot} was abandoned", resumed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, completed.StatusCode);
        Assert.Equal(StatusCode.NotFound, notTheirs.StatusCode);
        Assert.True(progress.Abandoned);
        Assert.Equal([("Y-1", true), ("Y-2", true), ("Y-3", true), ("Y-5", true)], tokens.Select(entry => (entry.LandlordReference, entry.Active)));
    }

    private async Task<string> NewLandlordTokenAsync()
    {
        var admin = await Hub.HubAdminAsync();
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Roster sync",
            LandlordId = landlord.Id,
            Scopes = { "hlmhub.roster" },
        }, options));
        return await Hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
    }

    /// <summary>Sends <paramref name="messages"/> and ends the request stream; the hub may have ended the call first (its status is the answer's).</summary>
    private static async Task SendAndEndAsync(AsyncClientStreamingCall<SyncRosterRequest, SyncRosterResponse> call, params SyncRosterRequest[] messages)
    {
        try
        {
            foreach (var message in messages)
            {
                await call.RequestStream.WriteAsync(message);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    private Task<SyncRosterResponse> SyncAsync(string token, string sessionId, SessionKind kind, params HouseholdChange[][] batches) =>
        RosterCalls.SyncAsync(Roster, token, sessionId, kind, batches);
}
