using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Domain = HlmHub.Domain;
using Ledger = HlmHub.Domain.Ledger;

namespace HlmHub.Server.Tests;

public sealed class RedemptionServiceSqliteTests(SqliteHubFixture fixture) : RedemptionServiceTests(fixture), IClassFixture<SqliteHubFixture>;

public sealed class RedemptionServicePostgresTests(PostgresHubFixture fixture) : RedemptionServiceTests(fixture), IClassFixture<PostgresHubFixture>;

/// <summary>
/// Partners' redemptions through real partner clients with real tokens over real HTTP/2. After each test the
/// database is checked: every accepted redemption is booked exactly once and the ledger balances.
/// </summary>
public abstract class RedemptionServiceTests(HubFixture fixture)
{
    private HubHost Hub => fixture.Hub;

    [Fact]
    public async Task Stream_AcknowledgesEachEventInOrder_WithTheComputedDiscount_AndBooksItOnce()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var members = new[] { await world.AddMemberAsync(), await world.AddMemberAsync(), await world.AddMemberAsync() };
        var events = members.Select((member, index) => world.Event(member, purchaseCents: 1_000 * (index + 1), discountCents: 100 * (index + 1))).ToList();

        var acks = await world.StreamAsync(events);

        Assert.Equal(events.Select(item => item.EventId), acks.Select(ack => ack.EventId));
        Assert.All(acks, ack => Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome));
        Assert.Equal([100L, 200L, 300L], acks.Select(ack => ack.ComputedDiscountCents));
        Assert.Equal(events.Select(item => Domain.Period.Of(item.OccurredAt.ToDateTimeOffset()).ToString()), acks.Select(ack => ack.Period));
        var booked = await world.LedgerCheckAsync();
        Assert.Equal(3, booked.AcceptedRedemptions);
        Assert.Equal(-600L, await world.BalanceAsync(Ledger.AccountKind.TenantSavings)); // credited: tenants saved 6 EUR
    }

    [Fact]
    public async Task Resend_GetsTheFirstAnswerAsDuplicate_AndADifferentPayloadIsAConflict_NothingBookedTwice()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var accepted = world.Event(member, 2_000, 200);
        var rejected = world.Event(member, 2_000, 999);

        var first = await world.StreamAsync([accepted, rejected]);
        var again = await world.StreamAsync([accepted, rejected, accepted.Clone()]);
        var conflicting = accepted.Clone();
        conflicting.PurchaseCents = 3_000;
        conflicting.DiscountCents = 300;
        var conflict = await world.RedeemAsync(conflicting);

        Assert.Equal([RedemptionOutcome.Accepted, RedemptionOutcome.Rejected], first.Select(ack => ack.Outcome));
        Assert.All(again, ack => Assert.Equal(RedemptionOutcome.Duplicate, ack.Outcome));
        Assert.Equal([RedemptionOutcome.Accepted, RedemptionOutcome.Rejected, RedemptionOutcome.Accepted], again.Select(ack => ack.FirstOutcome));
        Assert.Equal(first[0].RedemptionId, again[0].RedemptionId);
        Assert.Equal(first[0].RedemptionId, again[2].RedemptionId);
        Assert.Equal((RedemptionReason.DiscountMismatch, 200L), (again[1].Reason, again[1].ComputedDiscountCents));
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.IdempotencyConflict), (conflict.Outcome, conflict.Reason));
        Assert.Contains("different payload", conflict.Message, StringComparison.Ordinal);
        var booked = await world.LedgerCheckAsync();
        Assert.Equal(1, booked.AcceptedRedemptions);
        Assert.Equal(-200L, await world.BalanceAsync(Ledger.AccountKind.TenantSavings));
    }

    [Fact]
    public async Task EachRefusal_ComesBackWithItsReasonAndASentence_AndTheStreamGoesOn()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var notJoined = await world.AddMemberAsync(joined: false);
        var bigFlat = await world.AddMemberAsync(rooms: 6);
        var otherPartner = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var withdrawnOffer = await world.AddOfferAsync(terms => terms.ValidUntil = Timestamp.FromDateTimeOffset(TimeProvider.System.GetUtcNow().AddSeconds(1)));
        var smallFlatsOnly = await world.AddOfferAsync(terms => terms.MaxRooms = 3);
        var cappedOffer = await world.AddOfferAsync(terms => terms.CapCountPerPeriod = 1);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var now = TimeProvider.System.GetUtcNow();

        var cases = new (RedemptionEvent Event, RedemptionReason Expected)[]
        {
            (world.Event("mt_unknown" + Guid.NewGuid().ToString("N"), 1_000, 100), RedemptionReason.UnknownMember),
            (world.Event(notJoined, 1_000, 100), RedemptionReason.NotAMember),
            (world.Event(member, 1_000, 100, offerId: otherPartner.OfferId), RedemptionReason.NotYourOffer),
            (world.Event(member, 1_000, 100, offerId: "no-such-offer"), RedemptionReason.NotYourOffer),
            (world.Event(member, 1_000, 100, offerId: withdrawnOffer, occurredAt: now), RedemptionReason.OutsideWindow),
            (world.Event(bigFlat, 1_000, 100, offerId: smallFlatsOnly), RedemptionReason.NotEligible),
            (world.Event(member, 1_000, 150), RedemptionReason.DiscountMismatch),
            (world.Event(member, -5, 0), RedemptionReason.Malformed),
            (world.Event(member, 1_000, 100, occurredAt: now.AddHours(1)), RedemptionReason.Malformed),
            (world.Event(member, 1_000, 100, offerId: cappedOffer), RedemptionReason.Unspecified),
            (world.Event(member, 1_000, 100, offerId: cappedOffer), RedemptionReason.CapExceeded),
            (world.Event(member, 1_000, 100), RedemptionReason.Unspecified),
        };

        var acks = await world.StreamAsync(cases.Select(item => item.Event).ToList());

        Assert.Equal(cases.Select(item => item.Expected), acks.Select(ack => ack.Reason));
        Assert.All(acks.Where(ack => ack.Reason != RedemptionReason.Unspecified), ack =>
        {
            Assert.Equal(RedemptionOutcome.Rejected, ack.Outcome);
            Assert.False(string.IsNullOrWhiteSpace(ack.Message));
        });
        Assert.Contains("future", acks[8].Message, StringComparison.Ordinal);
        Assert.Equal(100L, acks[6].ComputedDiscountCents);
        Assert.Equal(2, (await world.LedgerCheckAsync()).AcceptedRedemptions);

        await world.SuspendContractAsync();
        var suspended = await world.RedeemAsync(world.Event(member, 1_000, 100));
        Assert.Equal(RedemptionReason.ContractSuspended, suspended.Reason);
    }

    [Fact]
    public async Task Cancellation_ReversesTheBookingAndFreesTheCap_CancellingTwiceIsADuplicate()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var capped = await world.AddOfferAsync(terms => terms.CapCountPerPeriod = 1);
        var redemption = world.Event(member, 4_000, 400, offerId: capped);

        var accepted = await world.RedeemAsync(redemption);
        var overCap = await world.RedeemAsync(world.Event(member, 1_000, 100, offerId: capped));
        var cancelled = await world.RedeemAsync(RedemptionWorld.Cancellation(redemption.EventId));
        var cancelledAgain = await world.RedeemAsync(RedemptionWorld.Cancellation(redemption.EventId));
        var afterCancel = await world.RedeemAsync(world.Event(member, 1_000, 100, offerId: capped));
        var nothingToCancel = await world.RedeemAsync(RedemptionWorld.Cancellation("never-sent"));

        Assert.Equal(RedemptionOutcome.Accepted, accepted.Outcome);
        Assert.Equal(RedemptionReason.CapExceeded, overCap.Reason);
        Assert.Equal((RedemptionOutcome.Accepted, 400L), (cancelled.Outcome, cancelled.ComputedDiscountCents));
        Assert.Equal((RedemptionOutcome.Duplicate, cancelled.RedemptionId), (cancelledAgain.Outcome, cancelledAgain.RedemptionId));
        Assert.Equal(RedemptionOutcome.Accepted, afterCancel.Outcome);
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.Malformed), (nothingToCancel.Outcome, nothingToCancel.Reason));
        Assert.Equal(-100L, await world.BalanceAsync(Ledger.AccountKind.TenantSavings)); // 4 EUR saved, reversed; then 1 EUR
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task CoFundedOffer_BooksTheClubsShareAsSubsidyPayable()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var coFunded = await world.AddOfferAsync(terms => terms.ClubFundedBasisPoints = 5_000);

        var ack = await world.RedeemAsync(world.Event(member, 3_000, 300, offerId: coFunded));

        Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome);
        Assert.Equal(-150L, await world.BalanceAsync(Ledger.AccountKind.SubsidyPayable, world.PartnerId));
        Assert.Equal(150L, await world.BalanceAsync(Ledger.AccountKind.SubsidyExpense));
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task RedemptionInAClosedMonth_IsBookedAsAnAdjustmentInTheNextOpenMonth()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var now = TimeProvider.System.GetUtcNow();
        var lastMonth = Domain.Period.Of(now).Previous();
        await world.ClosePeriodAsync(lastMonth);

        var ack = await world.RedeemAsync(world.Event(member, 1_000, 100, occurredAt: lastMonth.EndUtc.AddDays(-1)));

        Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome);
        Assert.True(ack.Adjustment);
        Assert.Equal(lastMonth.Next().ToString(), ack.Period);
        Assert.Contains("closed", ack.Message, StringComparison.Ordinal);
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task CapOfOne_TwoConcurrentStreamsForOneHousehold_AcceptExactlyOne()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var capped = await world.AddOfferAsync(terms => terms.CapCountPerPeriod = 1);
        var members = new List<string>();
        for (var index = 0; index < 20; index++)
        {
            members.Add(await world.AddMemberAsync());
        }

        var streams = Enumerable.Range(0, 2).Select(_ => world.StreamAsync(members.Select(member => world.Event(member, 1_000, 100, offerId: capped)).ToList()));
        var acks = (await Task.WhenAll(streams)).SelectMany(list => list).ToList();

        Assert.Equal(members.Count, acks.Count(ack => ack.Outcome == RedemptionOutcome.Accepted));
        Assert.Equal(members.Count, acks.Count(ack => ack.Reason == RedemptionReason.CapExceeded));
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task Redemptions_StreamedWhileTheLandlordSyncsALargeRoster_AreAllAccepted_AndTheSyncCompletes()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var members = new List<string>();
        for (var index = 0; index < 10; index++)
        {
            members.Add(await world.AddMemberAsync());
        }

        // 20,000 new households in batches of 1,000, sent in one go: several transactions of
        // Roster:MaxItemsPerCommit items, each holding SQLite's single write lock while it is written.
        var landlordToken = await world.TokenAsync(ClientKind.Landlord, world.LandlordId, "hlmhub.roster");
        var sync = Task.Run(async () =>
        {
            using var call = new RosterService.RosterServiceClient(Hub.Channel).SyncRoster(world.Options(landlordToken));
            await call.RequestStream.WriteAsync(new SyncRosterRequest { Start = new SessionStart { SessionId = Guid.NewGuid().ToString(), Kind = SessionKind.Delta } });
            for (var batch = 0; batch < 20; batch++)
            {
                var message = new RosterBatch();
                message.Items.AddRange(Enumerable.Range(batch * 1_000 + 1, 1_000).Select(sequence => new HouseholdChange
                {
                    Sequence = sequence, Kind = ChangeKind.Upsert, LandlordReference = $"BIG-{sequence:00000}", Version = 1, Rooms = 2,
                }));
                await call.RequestStream.WriteAsync(new SyncRosterRequest { Batch = message });
            }

            await call.RequestStream.WriteAsync(new SyncRosterRequest { Complete = new SessionComplete() });
            await call.RequestStream.CompleteAsync();
            return await call.ResponseAsync;
        });

        // Rounds of redemptions for as long as the sync runs: each waits its turn for the write lock, none is refused.
        var acks = new List<RedemptionAck>();
        var roundsDuringSync = 0;
        while (!sync.IsCompleted)
        {
            acks.AddRange(await world.StreamAsync([.. members.Select(member => world.Event(member, 2_000, 200))]));
            roundsDuringSync++;
        }

        var synced = await sync.DefaultTimeout();

        Assert.True(roundsDuringSync >= 1);
        Assert.Equal((20_000L, true), (synced.Session.Created, synced.Session.Completed));
        Assert.All(acks, ack => Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome));
        Assert.Equal(acks.Count, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task AnInstantOutsideTheBookedYears_OrAnAmountAboveTheLimit_IsMalformed_TheStreamGoesOn_AndAResendIsADuplicate()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var events = new[]
        {
            world.Event(member, 1_000, 100, occurredAt: new DateTimeOffset(1999, 12, 31, 12, 0, 0, TimeSpan.Zero)),
            world.Event(member, 1_000, 100, occurredAt: DateTimeOffset.UnixEpoch),
            world.Event(member, Domain.Limits.MaxAmountCents + 1, 100),
            // Two of these, accepted, used to overflow the club's monthly sum and fail its reconciliation.
            world.Event(member, 9_000_000_000_000_000_000, 500),
            world.Event(member, 1_000, Domain.Limits.MaxAmountCents + 1),
            world.Event(member, 1_000, 100),
        };

        var acks = await world.StreamAsync(events);
        var again = await world.StreamAsync([events[0].Clone(), events[3].Clone()]);

        Assert.Equal(
            [RedemptionReason.Malformed, RedemptionReason.Malformed, RedemptionReason.Malformed, RedemptionReason.Malformed, RedemptionReason.Malformed, RedemptionReason.Unspecified],
            acks.Select(ack => ack.Reason));
        Assert.Equal(RedemptionOutcome.Accepted, acks[5].Outcome);
        Assert.Contains("outside the years the hub books (2000 to 2999)", acks[0].Message, StringComparison.Ordinal);
        Assert.Contains("outside the years the hub books (2000 to 2999)", acks[1].Message, StringComparison.Ordinal);
        Assert.Contains("purchase_cents must be 0 to 1000000000", acks[2].Message, StringComparison.Ordinal);
        Assert.Contains("purchase_cents must be 0 to 1000000000", acks[3].Message, StringComparison.Ordinal);
        Assert.Contains("discount_cents must be 0 to 1000000000", acks[4].Message, StringComparison.Ordinal);
        Assert.All(again, ack => Assert.Equal((RedemptionOutcome.Duplicate, RedemptionOutcome.Rejected), (ack.Outcome, ack.FirstOutcome)));
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task AMessageOverTheSizeLimit_EndsTheStreamResourceExhausted_OnlyAfterAnsweringEveryEventReadBeforeIt()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        using var call = world.Client().StreamRedemptions(world.Options());
        var sent = new List<string>();
        for (var index = 0; index < 300; index++)
        {
            var item = world.Event(member, 1_000, 100);
            await call.RequestStream.WriteAsync(item).DefaultTimeout();
            sent.Add(item.EventId);
        }

        // Over Hub:MaxMessageSizeBytes (4 MiB): the hub refuses it, after every event before it.
        var oversized = world.Event(member, 1_000, 100);
        oversized.MemberToken = new string('x', 5 * 1024 * 1024);
        try
        {
            await call.RequestStream.WriteAsync(oversized).DefaultTimeout();
        }
        catch (RpcException)
        {
            // The hub may end the call while the client is still sending it: the status is on the response stream.
        }

        var acknowledged = new List<RedemptionAck>();
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
                acknowledged.Add(call.ResponseStream.Current);
            }
        });
        // Read as soon as the status arrived: what the partner was told is recorded is recorded by then.
        var booked = (await world.LedgerCheckAsync()).AcceptedRedemptions;

        Assert.Equal(StatusCode.ResourceExhausted, ended.StatusCode);
        Assert.Equal(sent, acknowledged.Select(ack => ack.EventId));
        Assert.All(acknowledged, ack => Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome));
        Assert.Equal(sent.Count, booked);
    }

    [Fact]
    public async Task ControlCharactersInAnIdOrToken_AreMalformed_NotRecorded_AndTheBatchesOtherEventsAreAccepted()
    {
        // On PostgreSQL a NUL cannot be stored nor sent in a query: it used to fail the statements every event of the
        // batch shared, other partners' included.
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var nulToken = world.Event("mt_\u0000", 1_000, 100);
        var nulEventId = world.Event(member, 1_000, 100);
        nulEventId.EventId = "poison-\u0000";
        var nulOffer = world.Event(member, 1_000, 100, offerId: "offer\u0001");
        var events = new[] { world.Event(member, 1_000, 100), nulToken, nulEventId, nulOffer, world.Event(member, 2_000, 200) };

        var acks = await world.StreamAsync(events);
        var again = await world.StreamAsync([nulToken.Clone()]);

        Assert.Equal(
            [RedemptionOutcome.Accepted, RedemptionOutcome.Rejected, RedemptionOutcome.Rejected, RedemptionOutcome.Rejected, RedemptionOutcome.Accepted],
            acks.Select(ack => ack.Outcome));
        Assert.All(acks.Skip(1).Take(3), ack => Assert.Equal(RedemptionReason.Malformed, ack.Reason));
        Assert.Equal("member_token must be printable text: it holds a control character", acks[1].Message);
        Assert.Equal("event_id is required: 1 to 100 printable characters, not beginning or ending with a space", acks[2].Message);
        Assert.Equal("offer_id must be printable text: it holds a control character", acks[3].Message);
        // Not recorded: a resend is answered the same way, not as a duplicate.
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.Malformed), (again[0].Outcome, again[0].Reason));
        Assert.Equal(2, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task ATooLongMemberTokenWhoseCutWouldSplitAnEmoji_IsMalformed_Recorded_AndItsResendIsADuplicate()
    {
        // Cut to 64 UTF-16 units, the token kept the high half of 😀 alone: PostgreSQL (Npgsql) refused that text, so
        // the stream ended UNAVAILABLE, and every resend of the event failed the same way.
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var longToken = world.Event("mt_" + new string('m', 60) + "😀x", 1_000, 100);

        var acks = await world.StreamAsync([world.Event(member, 1_000, 100), longToken, world.Event(member, 2_000, 200)]);
        var again = await world.StreamAsync([longToken.Clone()]);

        Assert.Equal([RedemptionOutcome.Accepted, RedemptionOutcome.Rejected, RedemptionOutcome.Accepted], acks.Select(ack => ack.Outcome));
        Assert.Equal((RedemptionReason.Malformed, "member_token is required: 1 to 64 characters"), (acks[1].Reason, acks[1].Message));
        Assert.Equal((RedemptionOutcome.Duplicate, RedemptionOutcome.Rejected, acks[1].RedemptionId), (again[0].Outcome, again[0].FirstOutcome, again[0].RedemptionId));
        await using (var db = await world.DbAsync())
        {
            var stored = await db.Redemptions.AsNoTracking().SingleAsync(item => item.PartnerId == world.PartnerId && item.PartnerEventId == longToken.EventId);
            Assert.Equal("mt_" + new string('m', 60), stored.MemberToken);
        }

        Assert.Equal(2, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task EventIdsWithASpaceAtEitherEnd_AreMalformed_NotRecorded_AndAnInnerSpaceIsKeptAsSent()
    {
        // A cancellation's id used to be trimmed when stored: "   " failed its whole batch as UNAVAILABLE, and "c1 "
        // was stored as "c1", colliding with another event of that id or refusing it later as a conflict.
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var redemption = world.Event(member, 4_000, 400);
        var padded = world.Event(member, 1_000, 100);
        padded.EventId = " r-" + Guid.NewGuid().ToString("N");
        var blank = RedemptionWorld.Cancellation(redemption.EventId);
        blank.EventId = "   ";
        var trailing = RedemptionWorld.Cancellation(redemption.EventId);
        trailing.EventId = "c-" + Guid.NewGuid().ToString("N") + " ";
        var inner = RedemptionWorld.Cancellation(redemption.EventId);
        inner.EventId = "c " + Guid.NewGuid().ToString("N");

        var acks = await world.StreamAsync([redemption, padded, blank, trailing, world.Event(member, 2_000, 200)]);
        var cancelled = await world.StreamAsync([inner]);
        var sameIdTrimmed = world.Event(member, 3_000, 300);
        sameIdTrimmed.EventId = trailing.EventId.TrimEnd();
        var afterwards = await world.RedeemAsync(sameIdTrimmed);

        Assert.Equal(
            [RedemptionOutcome.Accepted, RedemptionOutcome.Rejected, RedemptionOutcome.Rejected, RedemptionOutcome.Rejected, RedemptionOutcome.Accepted],
            acks.Select(ack => ack.Outcome));
        Assert.All(acks.Skip(1).Take(3), ack => Assert.Equal(
            (RedemptionReason.Malformed, "event_id is required: 1 to 100 printable characters, not beginning or ending with a space"), (ack.Reason, ack.Message)));
        Assert.Equal((RedemptionOutcome.Accepted, inner.EventId), (cancelled[0].Outcome, cancelled[0].EventId));
        Assert.Equal(RedemptionOutcome.Accepted, afterwards.Outcome);
        await using (var db = await world.DbAsync())
        {
            var stored = await db.Redemptions.AsNoTracking().Where(item => item.PartnerId == world.PartnerId).Select(item => item.PartnerEventId).ToListAsync();
            Assert.Contains(inner.EventId, stored);
            Assert.DoesNotContain(stored, id => id.Trim() != id);
        }

        Assert.Equal((3, 1), await world.LedgerCheckAsync());
    }

    [Fact]
    public async Task AnEventTheDatabaseRefusesAsADuplicateKeyOnEveryAttempt_FailsAlone_ItsBatchMatesAreStoredAndAnswered()
    {
        // A unique violation is first taken for a race with another hub and the batch decided again; one that is still
        // there after every attempt is one event at fault, and used to fail its whole batch as UNAVAILABLE. A unique
        // index the hub does not know of stands in for such an event: the second redemption of this member collides.
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var colliding = await world.AddMemberAsync();
        var index = "IX_Test_Collide_" + Guid.NewGuid().ToString("N")[..8];
        await using (var db = await world.DbAsync())
        {
            // Names and the token are the test's own (no quote in them): a partial index, on SQLite and PostgreSQL alike.
            var create = $"CREATE UNIQUE INDEX \"{index}\" ON \"Redemptions\" (\"MemberToken\") WHERE \"MemberToken\" = '{colliding}'";
            await db.Database.ExecuteSqlRawAsync(create);
        }

        try
        {
            var events = new[]
            {
                world.Event(member, 1_000, 100), world.Event(colliding, 1_000, 100), world.Event(member, 2_000, 200), world.Event(colliding, 2_000, 200),
            };
            using var call = world.Client().StreamRedemptions(world.Options());
            foreach (var item in events)
            {
                await call.RequestStream.WriteAsync(item);
            }

            await call.RequestStream.CompleteAsync();
            var acks = new List<RedemptionAck>();
            var failure = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
                {
                    acks.Add(call.ResponseStream.Current);
                }
            });

            // In order: the first three are stored and answered, the fourth ends the stream, nothing of it written.
            Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
            Assert.Equal([RedemptionOutcome.Accepted, RedemptionOutcome.Accepted, RedemptionOutcome.Accepted], acks.Select(ack => ack.Outcome));
            Assert.Equal((3, 0), await world.LedgerCheckAsync());
            // The one event that failed is logged as such (4003), naming what refused it (PostgreSQL names the index,
            // SQLite the column, which no index of the hub's own makes unique); only that error.
            Assert.Equal(1, Hub.AcceptErrors(record => record.EventId.Id == 4003
                && (record.Message.Contains(index, StringComparison.Ordinal) || record.Message.Contains("Redemptions.MemberToken", StringComparison.Ordinal))));
        }
        finally
        {
            await using var db = await world.DbAsync();
            var drop = $"DROP INDEX \"{index}\"";
            await db.Database.ExecuteSqlRawAsync(drop);
        }
    }

    [Fact]
    public async Task ACancellationDatedBeforeTheRedemptionItCancels_IsMalformed_NotRecorded_AndACorrectedResendCancels()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var redemption = world.Event(member, 1_000, 100);
        var backdated = RedemptionWorld.Cancellation(redemption.EventId);
        backdated.OccurredAt = Timestamp.FromDateTimeOffset(redemption.OccurredAt.ToDateTimeOffset().AddDays(-40));

        var accepted = await world.RedeemAsync(redemption);
        var refused = await world.RedeemAsync(backdated);
        var balanceAfterRefusal = await world.BalanceAsync(Ledger.AccountKind.TenantSavings);
        var corrected = backdated.Clone();
        corrected.OccurredAt = Timestamp.FromDateTimeOffset(redemption.OccurredAt.ToDateTimeOffset().AddMinutes(5));
        var cancelled = await world.RedeemAsync(corrected);

        Assert.Equal(RedemptionOutcome.Accepted, accepted.Outcome);
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.Malformed), (refused.Outcome, refused.Reason));
        Assert.Contains("is before the redemption it cancels", refused.Message, StringComparison.Ordinal);
        Assert.Equal(-100L, balanceAfterRefusal);
        Assert.Equal((RedemptionOutcome.Accepted, Domain.Period.Of(corrected.OccurredAt.ToDateTimeOffset()).ToString()), (cancelled.Outcome, cancelled.Period));
        Assert.Equal(0L, await world.BalanceAsync(Ledger.AccountKind.TenantSavings));
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task AnEventThatHappenedBeforeAnOfferWasRevised_IsJudgedByTheVersionInForceThen_ANewOneByTheNewVersion()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var beforeRevision = TimeProvider.System.GetUtcNow();
        // The hub keeps instants to the millisecond: the revision is made in a later one.
        await Task.Delay(TimeSpan.FromMilliseconds(20));
        var twentyPercent = new OfferTerms { Kind = OfferKind.PercentDiscount, PercentBasisPoints = 2_000, ValidFrom = Timestamp.FromDateTimeOffset(RedemptionWorld.ValidFrom) };
        var revised = await fixture.HubAdmin.CallAsync((client, options) => client.CreateOfferVersionAsync(new CreateOfferVersionRequest { OfferId = world.OfferId, Terms = twentyPercent }, options));

        // A till uploading at the end of the day: the sale was made at 10 % before the revision.
        var late = await world.RedeemAsync(world.Event(member, 1_000, 100, occurredAt: beforeRevision));
        var newAtOldTerms = await world.RedeemAsync(world.Event(member, 1_000, 100));
        var newAtNewTerms = await world.RedeemAsync(world.Event(member, 1_000, 200));

        Assert.Equal(2, revised.CurrentVersion);
        Assert.Equal((RedemptionOutcome.Accepted, 100L), (late.Outcome, late.ComputedDiscountCents));
        Assert.Equal((RedemptionReason.DiscountMismatch, 200L), (newAtOldTerms.Reason, newAtOldTerms.ComputedDiscountCents));
        Assert.Equal(RedemptionOutcome.Accepted, newAtNewTerms.Outcome);
        Assert.Equal(2, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task TheClubSettlesWhatItOwesForCoFundedDiscounts_OncePerReference_AndNeverMoreThanOwed()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var coFunded = await world.AddOfferAsync(terms => terms.ClubFundedBasisPoints = 5_000);
        await world.RedeemAsync(world.Event(member, 2_000, 200, offerId: coFunded));
        await world.RedeemAsync(world.Event(member, 4_000, 400, offerId: coFunded));
        RecordSubsidySettlementRequest Settle(string reference, long cents) =>
            new() { ClubId = world.ClubId, PartnerId = world.PartnerId, PaymentReference = reference, AmountCents = cents };

        var owedBefore = -await world.BalanceAsync(Ledger.AccountKind.SubsidyPayable, world.PartnerId);
        var tooMuch = await fixture.HubAdmin.FailsAsync((client, options) => client.RecordSubsidySettlementAsync(Settle("VIR-SUB-1", 301), options));
        var first = await fixture.HubAdmin.CallAsync((client, options) => client.RecordSubsidySettlementAsync(Settle("VIR-SUB-1", 200), options));
        var retry = await fixture.HubAdmin.CallAsync((client, options) => client.RecordSubsidySettlementAsync(Settle("VIR-SUB-1", 200), options));
        var otherAmount = await fixture.HubAdmin.FailsAsync((client, options) => client.RecordSubsidySettlementAsync(Settle("VIR-SUB-1", 100), options));
        var rest = await fixture.HubAdmin.CallAsync((client, options) => client.RecordSubsidySettlementAsync(Settle("VIR-SUB-2", 100), options));

        Assert.Equal(300L, owedBefore); // half of 2 EUR and 4 EUR of discounts
        Assert.Equal(StatusCode.FailedPrecondition, tooMuch.StatusCode);
        Assert.Contains("record at most what is owed", tooMuch.Detail, StringComparison.Ordinal);
        Assert.Equal((false, 200L, 100L), (first.AlreadyRecorded, first.AmountCents, first.StillOwedCents));
        Assert.Equal((true, first.TransactionId), (retry.AlreadyRecorded, retry.TransactionId));
        Assert.Equal(StatusCode.FailedPrecondition, otherAmount.StatusCode);
        Assert.Equal((false, 0L), (rest.AlreadyRecorded, rest.StillOwedCents));
        Assert.Equal(0L, await world.BalanceAsync(Ledger.AccountKind.SubsidyPayable, world.PartnerId));
        Assert.Equal(-300L, await world.BalanceAsync(Ledger.AccountKind.Bank));
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task SettlementsRecordedAtOnce_UnderDifferentReferences_NeverPayMoreThanOwed()
    {
        // Each call used to read what is owed before the others booked: several could pass the check together.
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var coFunded = await world.AddOfferAsync(terms => terms.ClubFundedBasisPoints = 5_000);
        await world.RedeemAsync(world.Event(member, 4_000, 400, offerId: coFunded));
        // A first payment, alone: the club's bank account exists before the others race.
        await fixture.HubAdmin.CallAsync((client, options) => client.RecordSubsidySettlementAsync(
            new RecordSubsidySettlementRequest { ClubId = world.ClubId, PartnerId = world.PartnerId, PaymentReference = "VIR-FIRST", AmountCents = 100 }, options));

        var calls = Enumerable.Range(1, 6).Select(index => Task.Run(async () =>
        {
            try
            {
                await fixture.HubAdmin.CallAsync((client, options) => client.RecordSubsidySettlementAsync(
                    new RecordSubsidySettlementRequest { ClubId = world.ClubId, PartnerId = world.PartnerId, PaymentReference = $"VIR-AT-ONCE-{index}", AmountCents = 100 }, options));
                return StatusCode.OK;
            }
            catch (RpcException exception)
            {
                return exception.StatusCode;
            }
        })).ToList();
        var outcomes = await Task.WhenAll(calls);

        // 1 EUR still owed (half of a 4 EUR discount, less 1 EUR paid): exactly one payment of it is booked, the others refused.
        Assert.Equal(1, outcomes.Count(outcome => outcome == StatusCode.OK));
        Assert.All(outcomes.Where(outcome => outcome != StatusCode.OK), outcome => Assert.Equal(StatusCode.FailedPrecondition, outcome));
        Assert.Equal(0L, await world.BalanceAsync(Ledger.AccountKind.SubsidyPayable, world.PartnerId));
        await world.LedgerCheckAsync();
    }

    [Fact]
    public async Task LandlordToken_IsRefused_AndPartnerWithoutTheScopeToo()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);

        var landlord = await world.FailsAsync(await world.TokenAsync(ClientKind.Landlord, world.LandlordId, "hlmhub.roster"));
        var wrongScope = await world.FailsAsync(await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.offers.read"));

        Assert.Equal(StatusCode.PermissionDenied, landlord.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, wrongScope.StatusCode);
        Assert.Equal(0, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task JsonOverHttp1_RedeemsWithABearerTokenUnderTheSameRules_AndRefusesWithoutOne()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        var member = await world.AddMemberAsync();
        var body = $$"""{"eventId":"json-{{Guid.NewGuid():N}}","offerId":"{{world.OfferId}}","memberToken":"{{member}}","occurredAt":"{{TimeProvider.System.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ}}","purchaseCents":"5000","discountCents":"500"}""";
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var anonymous = await http.PostAsync(new Uri(Hub.HttpAddress, "/v1/redemptions"), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Hub.HttpAddress, "/v1/redemptions")) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions"));
        using var answered = await http.SendAsync(request);
        var json = System.Text.Json.JsonDocument.Parse(await answered.Content.ReadAsStringAsync()).RootElement;

        var refusal = System.Text.Json.JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal((int)StatusCode.Unauthenticated, refusal.GetProperty("code").GetInt32());
        Assert.StartsWith("Missing access token", refusal.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("REDEMPTION_OUTCOME_ACCEPTED", json.GetProperty("outcome").GetString());
        Assert.Equal("500", json.GetProperty("computedDiscountCents").ToString());
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    [Fact]
    public async Task JsonWithTheWrongToken_Is403WithTheReason_AndABodyOverTheMessageLimit_Is413_BeforeTheRpcRuns()
    {
        var world = await RedemptionWorld.CreateAsync(Hub, fixture.HubAdmin);
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var partnerToken = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        var landlordToken = await world.TokenAsync(ClientKind.Landlord, world.LandlordId, "hlmhub.roster");
        // One field of 5 MiB: the request is larger than Hub:MaxMessageSizeBytes (4 MiB), as it would be over gRPC.
        var oversized = $$"""{"eventId":"json-{{Guid.NewGuid():N}}","offerId":"{{new string('o', 5 * 1024 * 1024)}}"}""";

        using var forbidden = await PostAsync(http, landlordToken, """{"eventId":"json-forbidden"}""");
        using var tooLarge = await PostAsync(http, partnerToken, oversized);
        var forbiddenBody = System.Text.Json.JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync()).RootElement;
        var tooLargeBody = System.Text.Json.JsonDocument.Parse(await tooLarge.Content.ReadAsStringAsync()).RootElement;
        var stillServing = await world.RedeemAsync(world.Event(await world.AddMemberAsync(), 1_000, 100));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal((int)StatusCode.PermissionDenied, forbiddenBody.GetProperty("code").GetInt32());
        Assert.Contains("Permission denied", forbiddenBody.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal((int)StatusCode.ResourceExhausted, tooLargeBody.GetProperty("code").GetInt32());
        Assert.Contains("Hub:MaxMessageSizeBytes is 4194304", tooLargeBody.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(RedemptionOutcome.Accepted, stillServing.Outcome);
        Assert.Equal(1, (await world.LedgerCheckAsync()).AcceptedRedemptions);
    }

    private Task<HttpResponseMessage> PostAsync(HttpClient http, string token, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Hub.HttpAddress, "/v1/redemptions"))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);
        return http.SendAsync(request);
    }
}
