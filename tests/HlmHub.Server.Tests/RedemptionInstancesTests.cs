using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// Two hub instances (two hosts in this test process, each with its own Kestrel, queue and batch loop) on one
/// PostgreSQL database, as behind a load balancer: the database decides the races between them.
/// </summary>
public sealed class RedemptionInstancesTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private HubHost _first = null!;
    private HubHost _second = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestProvider.Postgres);
        // One issuer identifier for both, as an operator sets it behind a load balancer: a token from either is valid on both.
        var port = LoopbackPorts.Free();
        var issuer = $"--Auth:Issuer=http://127.0.0.1:{port}/";
        _first = await HubHost.StartAsync(_database, $"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}", issuer);
        _second = await HubHost.StartAsync(_database, issuer);
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task CapOfOne_StreamsOnTwoInstancesForTheSameHouseholds_AcceptExactlyOnePerHousehold()
    {
        var world = await RedemptionWorld.CreateAsync(_first, await _first.HubAdminAsync());
        var capped = await world.AddOfferAsync(terms => terms.CapCountPerPeriod = 1);
        var members = new List<string>();
        for (var index = 0; index < 30; index++)
        {
            members.Add(await world.AddMemberAsync());
        }

        var onFirst = world.StreamAsync(members.Select(member => world.Event(member, 1_000, 100, offerId: capped)).ToList());
        var onSecond = world.StreamAsync(members.Select(member => world.Event(member, 1_000, 100, offerId: capped)).ToList(), _second);
        var acks = (await Task.WhenAll(onFirst, onSecond)).SelectMany(list => list).ToList();

        Assert.Equal(members.Count, acks.Count(ack => ack.Outcome == RedemptionOutcome.Accepted));
        Assert.Equal(members.Count, acks.Count(ack => ack.Reason == RedemptionReason.CapExceeded));
        Assert.Equal(members.Count, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task SameEventsResentToBothInstancesAtOnce_AreStoredOnce_EachAnsweredAcceptedOrDuplicate()
    {
        var world = await RedemptionWorld.CreateAsync(_first, await _first.HubAdminAsync());
        var events = new List<RedemptionEvent>();
        for (var index = 0; index < 30; index++)
        {
            events.Add(world.Event(await world.AddMemberAsync(), 1_000, 100));
        }

        var acks = await Task.WhenAll(world.StreamAsync(events), world.StreamAsync(events, _second));

        for (var index = 0; index < events.Count; index++)
        {
            var pair = new[] { acks[0][index], acks[1][index] };
            Assert.Single(pair, ack => ack.Outcome == RedemptionOutcome.Accepted);
            Assert.Single(pair, ack => ack.Outcome == RedemptionOutcome.Duplicate && ack.FirstOutcome == RedemptionOutcome.Accepted);
            Assert.Equal(pair[0].RedemptionId, pair[1].RedemptionId);
        }

        Assert.Equal(events.Count, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }
}
