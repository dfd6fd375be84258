using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using HlmHub.Bench.Redemptions;
using HlmHub.Contracts.V1;
using HlmHub.Interop.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using Domain = HlmHub.Domain;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Two real hub processes (the server's build output, each with its own Kestrel, queue and batch loop) on one
/// PostgreSQL database, as an operator runs them behind a load balancer, and one partner streaming to both at once.
/// Only the database can decide between them: a cap counter's version and the (partner, event id) unique key. After
/// each test the database is read from outside both hubs: every event is stored once with the answer the partner
/// got, and the ledger audit holds (every accepted redemption booked exactly once, the ledger balances).
/// </summary>
public sealed class RedemptionTwoHubProcessesTests(TwoHubProcessesFixture hubs, ITestOutputHelper output) : IClassFixture<TwoHubProcessesFixture>
{
    /// <summary>Distinct events per household in the cap test, half to each hub: more than the cap, so some must lose.</summary>
    private const int EventsPerHousehold = 8;

    /// <summary>Distinct events per household in the duplicate test, each sent to both hubs: within the cap.</summary>
    private const int ResentEventsPerHousehold = 2;

    [Fact]
    public async Task CappedOffer_StreamedToTwoHubProcessesAtOnce_EachHouseholdGetsExactlyTheCap_TheRestCapExceeded()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Startup);
        var households = hubs.World.MemberTokens.Take(TwoHubProcessesFixture.Households / 2).ToList();
        // Event k of every household goes to hub k % 2, households interleaved: both hubs decide on the same
        // households' counters at the same time.
        var toFirst = new List<RedemptionEvent>();
        var toSecond = new List<RedemptionEvent>();
        for (var index = 0; index < EventsPerHousehold; index++)
        {
            (index % 2 == 0 ? toFirst : toSecond).AddRange(households.Select((member, household) => hubs.Event($"cap-{household}-{index}", member)));
        }

        var (first, second) = await hubs.StreamToBothAsync(toFirst, toSecond, timeout.Token);

        var acks = first.Concat(second).ToList();
        Assert.Equal(toFirst.Count + toSecond.Count, acks.Select(acked => acked.Event.EventId).Distinct().Count());
        foreach (var perHousehold in acks.GroupBy(acked => acked.Event.MemberToken))
        {
            var outcomes = perHousehold.Select(acked => acked.Ack).ToList();
            Assert.True(outcomes.Count(ack => ack.Outcome == RedemptionOutcome.Accepted) == TwoHubProcessesFixture.Cap, Describe(outcomes));
            Assert.True(outcomes.Count(ack => ack.Outcome == RedemptionOutcome.Rejected && ack.Reason == RedemptionReason.CapExceeded) == EventsPerHousehold - TwoHubProcessesFixture.Cap, Describe(outcomes));
        }

        await hubs.AssertStoredAsAnsweredAsync(acks.ToDictionary(acked => acked.Event.EventId, acked => acked.Ack), timeout.Token);
        await using (var db = await hubs.Audit.CreateDbContextAsync(timeout.Token))
        {
            var acceptedPerHousehold = await db.Redemptions.AsNoTracking()
                .Where(redemption => redemption.OfferId == hubs.World.OfferId && redemption.Outcome == Domain.RedemptionOutcome.Accepted && households.Contains(redemption.MemberToken))
                .GroupBy(redemption => redemption.MemberToken)
                .Select(group => group.Count())
                .ToListAsync(timeout.Token);
            Assert.Equal(Enumerable.Repeat(TwoHubProcessesFixture.Cap, households.Count), acceptedPerHousehold);
        }

        output.WriteLine($"accepted by the first hub {Accepted(first)}, by the second {Accepted(second)} of {households.Count * TwoHubProcessesFixture.Cap}");
    }

    [Fact]
    public async Task SameEventsStreamedToTwoHubProcessesAtOnce_EachStoredOnce_OneAcceptedAndOneDuplicatePerEvent()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Startup);
        // The other half of the households: the cap test's use of the offer does not count against these.
        var households = hubs.World.MemberTokens.Skip(TwoHubProcessesFixture.Households / 2).ToList();
        var events = new List<RedemptionEvent>();
        for (var index = 0; index < ResentEventsPerHousehold; index++)
        {
            events.AddRange(households.Select((member, household) => hubs.Event($"twice-{household}-{index}", member)));
        }

        var (first, second) = await hubs.StreamToBothAsync(events, events, timeout.Token);

        Assert.Equal(events.Count, first.Count);
        Assert.Equal(events.Count, second.Count);
        var answers = new Dictionary<string, RedemptionAck>(StringComparer.Ordinal);
        foreach (var pair in first.Zip(second, (one, other) => new[] { one.Ack, other.Ack }))
        {
            Assert.True(pair.Count(ack => ack.Outcome == RedemptionOutcome.Accepted) == 1, Describe(pair));
            Assert.True(pair.Count(ack => ack.Outcome == RedemptionOutcome.Duplicate && ack.FirstOutcome == RedemptionOutcome.Accepted) == 1, Describe(pair));
            Assert.Equal(pair[0].RedemptionId, pair[1].RedemptionId);
            answers.Add(pair[0].EventId, pair.Single(ack => ack.Outcome == RedemptionOutcome.Accepted));
        }

        await hubs.AssertStoredAsAnsweredAsync(answers, timeout.Token);
        output.WriteLine($"accepted by the first hub {Accepted(first)}, by the second {Accepted(second)} of {events.Count}");
    }

    private static int Accepted(IEnumerable<AckedEvent> acks) => acks.Count(acked => acked.Ack.Outcome == RedemptionOutcome.Accepted);

    private static string Describe(IEnumerable<RedemptionAck> acks) => string.Join('\n', acks);
}

/// <summary>
/// One PostgreSQL database, two hub processes on it (sharing the data directory as they would share a volume: the
/// member-token key is there), and a partner world with a capped offer, set up through the first hub.
/// </summary>
public sealed class TwoHubProcessesFixture : IAsyncLifetime
{
    /// <summary>Households of the world: half for each test.</summary>
    public const int Households = 40;

    /// <summary>The offer's cap: redemptions per household and month.</summary>
    public const int Cap = 3;

    /// <summary>Events in flight per stream.</summary>
    private const int Window = 64;

    private EmptyDatabase? _database;
    private HubServerProcess? _first;
    private HubServerProcess? _second;
    private AuditDatabase? _audit;
    private string _firstToken = "";
    private string _secondToken = "";

    /// <summary>One time for every event: they all fall in one month, whatever the test's start time.</summary>
    private Timestamp _occurredAt = new();

    internal PartnerWorld World { get; private set; } = null!;

    internal AuditDatabase Audit => _audit ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Startup * 3);
        var cancellationToken = timeout.Token;
        _database = await EmptyDatabase.CreateAsync(StorageProvider.Postgres, cancellationToken);
        Directory.CreateDirectory(_database.DataDirectory);
        _audit = AuditDatabase.For(_database);
        var settings = new Dictionary<string, string?>(_database.Settings)
        {
            ["Logging:LogLevel:Default"] = "Warning",
            // Batches of a few events, so the two hubs' commits interleave: a household's counter is created by one
            // and then updated by both (its version check), instead of one batch per hub taking every cap at once.
            ["Redemptions:MaxBatchSize"] = "4",
            // Two instances racing for the same counters retry a lost commit; past the bound the events are answered
            // UNAVAILABLE (docs/redemptions.md). This test is about what the database decides, not about that bound:
            // with the highest allowed, a stream that still fails shows its status in the failure.
            ["Redemptions:MaxCommitAttempts"] = "100",
        };
        _first = HubServerProcess.Start(settings, _database.DataDirectory);
        await _first.WaitReadyAsync(TestTimeouts.Startup, cancellationToken);
        using (var setup = GrpcChannel.ForAddress(_first.GrpcAddress))
        {
            var (adminId, adminSecret) = await _first.BootstrapAdminAsync(TestTimeouts.Startup, cancellationToken);
            var terms = PartnerWorld.TenPercentUncapped();
            terms.CapCountPerPeriod = Cap;
            World = await PartnerWorld.CreateAsync(setup, _first.GetTokenAsync, await _first.GetTokenAsync(adminId, adminSecret, "hlmhub.admin", cancellationToken), Households, terms, cancellationToken);
        }

        // After the offer's creation, from which it is valid (an earlier event is OUTSIDE_WINDOW).
        _occurredAt = Timestamp.FromDateTimeOffset(TimeProvider.System.GetUtcNow());
        // Started once the first has migrated the schema and written the member-token key: the second only serves.
        _second = HubServerProcess.Start(settings, _database.DataDirectory);
        await _second.WaitReadyAsync(TestTimeouts.Startup, cancellationToken);
        // Each hub is its own token issuer (Auth:Issuer is its address): the partner gets a token from each.
        _firstToken = await _first.GetTokenAsync(World.PartnerClientId, World.PartnerClientSecret, PartnerWorld.RedemptionScope, cancellationToken);
        _secondToken = await _second.GetTokenAsync(World.PartnerClientId, World.PartnerClientSecret, PartnerWorld.RedemptionScope, cancellationToken);
        // One stream on each hub first, so neither pays its first stream's start-up during a test and both decide
        // together. An unknown offer id: answered NOT_YOUR_OFFER, it uses no cap.
        RedemptionEvent WarmUp(string eventId) => new(Event(eventId, World.MemberTokens[0])) { OfferId = "warm-up-" + World.OfferId };
        await StreamToBothAsync([WarmUp("warm-up-first")], [WarmUp("warm-up-second")], cancellationToken);
    }

    /// <summary>A redemption of 10.00 with its 10 % discount, by <paramref name="memberToken"/>.</summary>
    internal RedemptionEvent Event(string eventId, string memberToken) => new()
    {
        EventId = eventId,
        OfferId = World.OfferId,
        MemberToken = memberToken,
        OccurredAt = _occurredAt,
        PurchaseCents = 1_000,
        DiscountCents = 100,
    };

    /// <summary>
    /// One stream to each hub, both open before either sends, then both sent at once; returns each stream's
    /// acknowledgements in the order they came (which is the order sent).
    /// </summary>
    internal async Task<(List<AckedEvent> First, List<AckedEvent> Second)> StreamToBothAsync(
        IReadOnlyList<RedemptionEvent> toFirst, IReadOnlyList<RedemptionEvent> toSecond, CancellationToken cancellationToken)
    {
        using var firstChannel = GrpcChannel.ForAddress(_first!.GrpcAddress);
        using var secondChannel = GrpcChannel.ForAddress(_second!.GrpcAddress);
        var firstAcks = new ConcurrentQueue<AckedEvent>();
        var secondAcks = new ConcurrentQueue<AckedEvent>();
        await using var first = new RedemptionStream(new RedemptionService.RedemptionServiceClient(firstChannel), _firstToken, Window, firstAcks.Enqueue, cancellationToken);
        await using var second = new RedemptionStream(new RedemptionService.RedemptionServiceClient(secondChannel), _secondToken, Window, secondAcks.Enqueue, cancellationToken);
        await Task.WhenAll(SendAllAsync(first, toFirst), SendAllAsync(second, toSecond));
        return ([.. firstAcks], [.. secondAcks]);
    }

    /// <summary>
    /// Every answered event is stored once, as answered (outcome, id, discount), and the ledger audit holds over the
    /// whole database.
    /// </summary>
    internal async Task AssertStoredAsAnsweredAsync(IReadOnlyDictionary<string, RedemptionAck> answers, CancellationToken cancellationToken)
    {
        await using var db = await Audit.CreateDbContextAsync(cancellationToken);
        var eventIds = answers.Keys.ToList();
        var stored = (await db.Redemptions.AsNoTracking()
                .Where(redemption => redemption.PartnerId == World.PartnerId && eventIds.Contains(redemption.PartnerEventId))
                .ToListAsync(cancellationToken))
            .ToLookup(redemption => redemption.PartnerEventId, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (eventId, answer) in answers)
        {
            var rows = stored[eventId].ToList();
            var expected = answer.Outcome == RedemptionOutcome.Accepted ? Domain.RedemptionOutcome.Accepted : Domain.RedemptionOutcome.Rejected;
            if (rows.Count != 1 || rows[0].Outcome != expected || rows[0].Id.ToString() != answer.RedemptionId || rows[0].ComputedDiscount.Cents != answer.ComputedDiscountCents)
            {
                problems.Add($"event {eventId}, answered {answer}, is stored {rows.Count} time(s): {string.Join("; ", rows.Select(row => $"{row.Outcome} {row.Id} {row.ComputedDiscount}"))}");
            }
        }

        problems.AddRange(await RedemptionLedger.ProblemsAsync(db, cancellationToken));
        Assert.True(problems.Count == 0, string.Join('\n', problems.Take(20)));
    }

    public async Task DisposeAsync()
    {
        // Each step runs even when an earlier one failed: no hub process or database is left behind.
        await using (_database)
        await using (_audit)
        await using (_first)
        await using (_second)
        {
        }
    }

    private static async Task SendAllAsync(RedemptionStream stream, IReadOnlyList<RedemptionEvent> events)
    {
        // Off the caller's thread, so the two streams send at the same time.
        await Task.Yield();
        foreach (var redemption in events)
        {
            await stream.SendAsync(redemption);
        }

        await stream.CompleteAsync();
    }
}
