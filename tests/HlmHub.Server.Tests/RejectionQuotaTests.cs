using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// <c>Redemptions:MaxStoredRejectionsPerPartnerPerDay</c>, here 3, over real HTTP/2 with real tokens: past it a
/// partner's rejected events are answered with their reason and not stored; its accepted events, and other partners'
/// rejections, are not affected.
/// </summary>
public sealed class RejectionQuotaTests
{
    private const int Quota = 3;

    [Fact]
    public async Task RejectionsPastThePartnersDailyQuota_AreAnsweredButNotStored_AcceptedEventsAndOtherPartnersAreNotAffected()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(database, $"--Redemptions:MaxStoredRejectionsPerPartnerPerDay={Quota}");
        var admin = await hub.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(hub, admin);
        var neighbour = await RedemptionWorld.CreateAsync(hub, admin);
        var member = await world.AddMemberAsync();
        // Unknown member tokens: each event is rejected UNKNOWN_MEMBER.
        var unknown = Enumerable.Range(0, Quota + 2).Select(_ => world.Event("mt_unknown_" + Guid.NewGuid().ToString("N"), 1_000, 100)).ToList();

        var acks = await world.StreamAsync([.. unknown, world.Event(member, 1_000, 100)]);
        var resent = await world.StreamAsync([unknown[0], unknown[^1]]);
        var neighbourAcks = await neighbour.StreamAsync([.. Enumerable.Range(0, Quota).Select(_ => neighbour.Event("mt_unknown_" + Guid.NewGuid().ToString("N"), 1_000, 100))]);

        Assert.All(acks.Take(Quota + 2), ack => Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.UnknownMember), (ack.Outcome, ack.Reason)));
        Assert.All(acks.Take(Quota), ack => Assert.NotEmpty(ack.RedemptionId));
        Assert.All(acks.Skip(Quota).Take(2), ack =>
        {
            Assert.Empty(ack.RedemptionId);
            Assert.Contains("not stored: Redemptions:MaxStoredRejectionsPerPartnerPerDay is 3", ack.Message, StringComparison.Ordinal);
        });
        Assert.Equal(RedemptionOutcome.Accepted, acks[^1].Outcome);
        // A stored rejection's resend is its duplicate; an unstored one's is decided again.
        Assert.Equal((RedemptionOutcome.Duplicate, RedemptionOutcome.Rejected), (resent[0].Outcome, resent[0].FirstOutcome));
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.UnknownMember), (resent[1].Outcome, resent[1].Reason));
        Assert.All(neighbourAcks, ack => Assert.NotEmpty(ack.RedemptionId));
        Assert.Equal(Quota, await world.StoredRejectionsAsync());
        Assert.Equal(Quota, await neighbour.StoredRejectionsAsync());
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }
}
