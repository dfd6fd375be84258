using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>A hub whose tokens live a few seconds, with no clock skew: long enough to set a test up, short enough to outlive.</summary>
public sealed class ShortTokenHubFixture : IAsyncLifetime
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(10);

    private TestDatabase? _database;

    internal HubHost Hub { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        Hub = await HubHost.StartAsync(_database, $"--Auth:TokenLifetime={TokenLifetime}", "--Auth:ClockSkew=00:00:00");
    }

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        await _database!.DisposeAsync();
    }
}

/// <summary>
/// A token is checked when a call starts; a stream must not outlive it. A stream opened with a leaked token stays
/// open no longer than the token's lifetime: it then ends with UNAUTHENTICATED, and nothing sent on it after that is
/// booked (a disabled client's streams end sooner: <see cref="DisabledClientTests"/>).
/// </summary>
public sealed class StreamTokenExpiryTests(ShortTokenHubFixture fixture) : IClassFixture<ShortTokenHubFixture>
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);

    // A timer may fire a few milliseconds before the wall clock reads its due time.
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task AnIdleRedemptionStream_EndsUnauthenticatedWhenItsTokenExpires_WithoutWaitingForTheNextEvent()
    {
        var world = await RedemptionWorld.CreateAsync(fixture.Hub, await fixture.Hub.HubAdminAsync());
        var member = await world.AddMemberAsync();
        var token = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var expiresAt = ExpiryOf(token);
        using var call = world.Client().StreamRedemptions(Auth(token));

        await call.RequestStream.WriteAsync(world.Event(member, 1_000, 100));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var first = call.ResponseStream.Current;
        // The stream stays open, idle, past the token's expiry: the hub ends it without waiting for the next event.
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(ShortTokenHubFixture.TokenLifetime + Margin));
        var endedAt = TimeProvider.System.GetUtcNow();

        Assert.Equal(RedemptionOutcome.Accepted, first.Outcome);
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("access token expired during this call", ended.Status.Detail, StringComparison.Ordinal);
        Assert.True(endedAt >= expiresAt - TimerSlack, $"ended at {endedAt:O}, the token expired at {expiresAt:O}");
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task ABusyRedemptionStream_EndsUnauthenticatedWhenItsTokenExpires_AndBooksEveryEventItAcknowledgedOnce()
    {
        var world = await RedemptionWorld.CreateAsync(fixture.Hub, await fixture.Hub.HubAdminAsync());
        var member = await world.AddMemberAsync();
        var token = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var expiresAt = ExpiryOf(token);
        using var call = world.Client().StreamRedemptions(Auth(token));
        var acknowledged = new List<string>();
        var sent = new List<string>();

        // A partner that keeps redeeming, one event every 100 ms, across its token's expiry: the hub ends the stream
        // then, not at the next idle moment (there is none).
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            var stopAt = expiresAt + Margin;
            while (TimeProvider.System.GetUtcNow() < stopAt)
            {
                var item = world.Event(member, 1_000, 100);
                try
                {
                    await call.RequestStream.WriteAsync(item).DefaultTimeout();
                    sent.Add(item.EventId);
                }
                catch (RpcException)
                {
                    // Writing on a call the hub has ended fails as CANCELLED on the client; the hub's status is on
                    // the response stream, read next.
                }

                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
                acknowledged.Add(call.ResponseStream.Current.EventId);
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        });
        var endedAt = TimeProvider.System.GetUtcNow();

        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("access token expired during this call", ended.Status.Detail, StringComparison.Ordinal);
        Assert.True(endedAt >= expiresAt - TimerSlack, $"ended at {endedAt:O}, the token expired at {expiresAt:O}");
        Assert.True(acknowledged.Count >= 2, $"only {acknowledged.Count} event(s) acknowledged before the stream ended");
        Assert.Equal(sent.Take(acknowledged.Count), acknowledged);
        // Every acknowledged event is booked, once. The one in flight when the stream ended may be booked too (a
        // partner resends it and gets DUPLICATE), never anything more: each event waits for the one before's answer.
        Assert.InRange((await world.LedgerCheckAsync()).AcceptedRedemptions, acknowledged.Count, sent.Count);
        Assert.True(sent.Count <= acknowledged.Count + 1);
    }

    [Fact]
    public async Task AQuietWatchStream_EndsUnauthenticatedWhenItsTokenExpires()
    {
        var world = await RedemptionWorld.CreateAsync(fixture.Hub, await fixture.Hub.HubAdminAsync());
        await world.AddMemberAsync();
        var token = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.offers.read");
        var expiresAt = ExpiryOf(token);
        using var call = new EligibilityService.EligibilityServiceClient(fixture.Hub.Channel).Watch(new WatchEligibilityRequest(), Auth(token));

        // The snapshot, then nothing changes: the stream has nothing to write when the token expires.
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var snapshot = call.ResponseStream.Current;
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(ShortTokenHubFixture.TokenLifetime + Margin))
            {
            }
        });
        var endedAt = TimeProvider.System.GetUtcNow();

        Assert.True(snapshot.Snapshot);
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("access token expired during this call", ended.Status.Detail, StringComparison.Ordinal);
        Assert.True(endedAt >= expiresAt - TimerSlack, $"ended at {endedAt:O}, the token expired at {expiresAt:O}");
    }

    private static CallOptions Auth(string token) => new(new Metadata { { "authorization", "Bearer " + token } });

    // The token's own exp claim (whole seconds): a clock read after the token arrived would be late by however long
    // the token request took on a loaded machine.
    private static DateTimeOffset ExpiryOf(string token)
    {
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(payload));
        return DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("exp").GetInt64());
    }
}
