using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>A hub whose tokens live a few seconds, with one redemption stream per partner and a small in-flight window.</summary>
public sealed class StalledReaderHubFixture : IAsyncLifetime
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(10);

    private TestDatabase? _database;

    internal HubHost Hub { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        Hub = await HubHost.StartAsync(
            _database, $"--Auth:TokenLifetime={TokenLifetime}", "--Auth:ClockSkew=00:00:00", "--Redemptions:MaxStreamsPerPartner=1",
            "--Redemptions:MaxInFlightPerStream=4");
    }

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        await _database!.DisposeAsync();
    }
}

/// <summary>
/// A partner whose system stops reading its acknowledgements (a hung thread, a bug) while it keeps the connection up:
/// HTTP/2 flow control then holds the hub's writes of acknowledgements, and the hub stops reading the stream. That
/// stream must still end when its token expires, as every stream does (docs/redemptions.md, Statuses): else it holds
/// one of the partner's <c>Redemptions:MaxStreamsPerPartner</c> slots for as long as the connection lives.
/// </summary>
public sealed class StalledReaderTests(StalledReaderHubFixture fixture) : IClassFixture<StalledReaderHubFixture>
{
    // Far more acknowledgements than the client's HTTP/2 receive window (64 KiB) and the hub's response buffer hold.
    private const int Events = 3_000;

    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AStreamWhoseClientStopsReadingAcknowledgements_EndsWhenItsTokenExpires_AndFreesThePartnersStreamSlot()
    {
        var world = await RedemptionWorld.CreateAsync(fixture.Hub, await fixture.Hub.HubAdminAsync());
        var member = await world.AddMemberAsync();
        // Registered now: the administrator's token, too, runs out during the test.
        var partner = await world.RegisterClientAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var token = await fixture.Hub.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
        // No deadline: the token's expiry is the only bound on this stream.
        using var stalled = world.Client().StreamRedemptions(Auth(token));
        var sent = 0;
        for (; sent < Events; sent++)
        {
            await stalled.RequestStream.WriteAsync(world.Event(member, 1_000, 100)).DefaultTimeout();
        }

        // The client never reads while its token runs out, and a while after.
        await Task.Delay(StalledReaderHubFixture.TokenLifetime + Margin);

        // A fresh token of the same partner gets the partner's only stream slot: the stalled stream has let it go.
        var fresh = await fixture.Hub.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
        RedemptionAck next;
        using (var again = world.Client().StreamRedemptions(Auth(fresh)))
        {
            await again.RequestStream.WriteAsync(world.Event(member, 1_000, 100)).DefaultTimeout();
            Assert.True(await again.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            next = again.ResponseStream.Current;
            await again.RequestStream.CompleteAsync().DefaultTimeout();
            Assert.False(await again.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        }

        // The stalled client reads at last: whatever acknowledgements reached it, then the end of the stream. Its
        // status cannot be UNAUTHENTICATED: the trailers would wait behind acknowledgements the client never made room
        // for, so the hub resets the stream (RST_STREAM CANCEL: grpc-dotnet reports CANCELLED, or INTERNAL when the
        // reset cuts a message it was reading).
        var acknowledged = 0;
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stalled.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
                acknowledged++;
            }
        });

        Assert.Equal(RedemptionOutcome.Accepted, next.Outcome);
        Assert.True(ended.StatusCode is StatusCode.Cancelled or StatusCode.Internal, ended.Status.ToString());
        Assert.InRange(acknowledged, 0, sent - 1);
        // Every acknowledged event is booked once; events read and not acknowledged may be booked too (a resend gets
        // DUPLICATE), never more than were sent.
        Assert.InRange((await world.LedgerCheckAsync()).AcceptedRedemptions, acknowledged + 1, sent + 1);
    }

    private static CallOptions Auth(string token) => new(new Metadata { { "authorization", "Bearer " + token } });
}
