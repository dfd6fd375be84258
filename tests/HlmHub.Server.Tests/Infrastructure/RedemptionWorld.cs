using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Domain = HlmHub.Domain;
using Ledger = HlmHub.Domain.Ledger;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>
/// A club with a bakery under contract, a 10 % offer valid since last month, and a partner client with a real
/// `hlmhub.redemptions` token; households are written straight to the database as a roster sync would.
/// </summary>
internal sealed class RedemptionWorld
{
    private HubHost _hub = null!;
    private AdminClient _admin = null!;
    private string _token = "";

    public string LandlordId { get; private set; } = "";

    public string ClubId { get; private set; } = "";

    public string PartnerId { get; private set; } = "";

    public string ContractId { get; private set; } = "";

    public string OfferId { get; private set; } = "";

    /// <summary>Since the start of last month (Paris), so events of a closed last month are inside the window.</summary>
    public static DateTimeOffset ValidFrom => Domain.Period.Of(TimeProvider.System.GetUtcNow()).Previous().StartUtc;

    public static async Task<RedemptionWorld> CreateAsync(HubHost hub, AdminClient admin)
    {
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var bakery = await admin.CreatePartnerAsync(SampleData.Bakery());
        var contract = await admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
        var world = new RedemptionWorld
        {
            _hub = hub,
            _admin = admin,
            LandlordId = landlord.Id,
            ClubId = club.Id,
            PartnerId = bakery.Id,
            ContractId = contract.Id,
        };
        world.OfferId = await world.AddOfferAsync(_ => { });
        world._token = await world.TokenAsync(ClientKind.Partner, bakery.Id, "hlmhub.redemptions");
        return world;
    }

    /// <summary>A 10 % offer (no cap unless <paramref name="adjust"/> sets one) under the world's contract.</summary>
    public async Task<string> AddOfferAsync(Action<OfferTerms> adjust)
    {
        var terms = new OfferTerms { Kind = OfferKind.PercentDiscount, PercentBasisPoints = 1_000, ValidFrom = Timestamp.FromDateTimeOffset(ValidFrom) };
        adjust(terms);
        var offer = await _admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = ContractId, Title = "10 % off", Terms = terms });
        return offer.Id;
    }

    /// <summary>An active household of the club's host landlord (a member unless <paramref name="joined"/> is false); its member token.</summary>
    public async Task<string> AddMemberAsync(bool joined = true, int rooms = 3)
    {
        var now = TimeProvider.System.GetUtcNow();
        var token = "mt_" + Guid.NewGuid().ToString("N");
        var household = Domain.Household.Create(Guid.NewGuid(), LandlordId, "REF-" + Guid.NewGuid().ToString("N")[..12], token, rooms, false, now);
        await using var db = await DbAsync();
        db.Households.Add(household);
        if (joined)
        {
            var club = await db.Clubs.SingleAsync(item => item.Id == ClubId);
            db.Memberships.Add(Domain.Membership.Join(club, household, landlordFederated: false, now));
        }

        await db.SaveChangesAsync();
        return token;
    }

    public RedemptionEvent Event(string memberToken, long purchaseCents, long discountCents, string? offerId = null, DateTimeOffset? occurredAt = null) => new()
    {
        EventId = "evt-" + Guid.NewGuid().ToString("N"),
        OfferId = offerId ?? OfferId,
        MemberToken = memberToken,
        OccurredAt = Timestamp.FromDateTimeOffset(occurredAt ?? TimeProvider.System.GetUtcNow()),
        PurchaseCents = purchaseCents,
        DiscountCents = discountCents,
    };

    public static RedemptionEvent Cancellation(string cancelsEventId) => new()
    {
        EventId = "cancel-" + Guid.NewGuid().ToString("N"),
        CancelsEventId = cancelsEventId,
        OccurredAt = Timestamp.FromDateTimeOffset(TimeProvider.System.GetUtcNow()),
    };

    public RedemptionService.RedemptionServiceClient Client(HubHost? hub = null) => new((hub ?? _hub).Channel);

    public CallOptions Options(string? token = null) =>
        new(new Metadata { { "authorization", "Bearer " + (token ?? _token) } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));

    /// <summary>Streams <paramref name="events"/> on one call (to <paramref name="hub"/>, else the world's hub), reading acknowledgements as they come; all of them.</summary>
    public async Task<List<RedemptionAck>> StreamAsync(IReadOnlyList<RedemptionEvent> events, HubHost? hub = null)
    {
        using var call = Client(hub).StreamRedemptions(Options());
        var reading = Task.Run(async () =>
        {
            var acks = new List<RedemptionAck>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                acks.Add(call.ResponseStream.Current);
            }

            return acks;
        });
        foreach (var item in events)
        {
            await call.RequestStream.WriteAsync(item);
        }

        await call.RequestStream.CompleteAsync();
        return await reading.DefaultTimeout();
    }

    public async Task<RedemptionAck> RedeemAsync(RedemptionEvent item) => await Client().RedeemAsync(item, Options()).ResponseAsync.DefaultTimeout();

    /// <summary>The status a Redeem call with <paramref name="token"/> fails with.</summary>
    public async Task<Status> FailsAsync(string token)
    {
        var member = await AddMemberAsync();
        var exception = await Assert.ThrowsAsync<RpcException>(() => Client().RedeemAsync(Event(member, 1_000, 100), Options(token)).ResponseAsync.DefaultTimeout());
        return exception.Status;
    }

    public async Task SuspendContractAsync() =>
        await _admin.CallAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = ContractId }, options));

    public async Task ClosePeriodAsync(Domain.Period period)
    {
        await using var db = await DbAsync();
        db.PeriodClosures.Add(Domain.PeriodClosure.Close(ClubId, period, TimeProvider.System.GetUtcNow()));
        await db.SaveChangesAsync();
    }

    public async Task<string> TokenAsync(ClientKind kind, string boundTo, string scope)
    {
        var registered = await RegisterClientAsync(kind, boundTo, scope);
        return await _hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
    }

    /// <summary>A new client of <paramref name="kind"/> bound to <paramref name="boundTo"/>, registered by the world's administrator.</summary>
    public async Task<RegisteredClient> RegisterClientAsync(ClientKind kind, string boundTo, string scope) =>
        await _admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = kind,
            DisplayName = $"{kind} {boundTo}",
            LandlordId = kind == ClientKind.Landlord ? boundTo : "",
            PartnerId = kind == ClientKind.Partner ? boundTo : "",
            Scopes = { scope },
        }, options));

    /// <summary>The balance (debits minus credits, in cents) of one of the club's accounts.</summary>
    public async Task<long> BalanceAsync(Ledger.AccountKind kind, string? partnerId = null)
    {
        var accountId = Ledger.LedgerAccount.IdFor(ClubId, kind, kind is Ledger.AccountKind.DiscountsGranted or Ledger.AccountKind.SubsidyPayable ? partnerId ?? PartnerId : null);
        await using var db = await DbAsync();
        var entries = await db.LedgerEntries.AsNoTracking().Where(entry => entry.AccountId == accountId).ToListAsync();
        return entries.Sum(entry => entry.Side == Ledger.EntrySide.Debit ? entry.Amount.Cents : -entry.Amount.Cents);
    }

    /// <summary>
    /// What the issue asks after every test: each accepted redemption of the club with a discount is booked by exactly
    /// one balanced transaction (a cancellation by exactly one reversal of it), no redemption transaction lacks its
    /// redemption, and the club's ledger balances.
    /// </summary>
    public async Task<(int AcceptedRedemptions, int Cancellations)> LedgerCheckAsync()
    {
        await using var db = await DbAsync();
        var redemptions = await db.Redemptions.AsNoTracking().Where(item => item.ClubId == ClubId && item.Outcome == Domain.RedemptionOutcome.Accepted).ToListAsync();
        var transactions = await db.LedgerTransactions.AsNoTracking().Include(item => item.Entries).Where(item => item.ClubId == ClubId).ToListAsync();
        var byKey = transactions.GroupBy(item => item.IdempotencyKey).ToDictionary(group => group.Key, group => group.ToList());
        var originals = redemptions.Where(item => item.Kind == Domain.RedemptionKind.Redemption).ToList();
        foreach (var redemption in originals)
        {
            var key = Ledger.IdempotencyKeys.Redemption(redemption.Id);
            var booked = byKey.GetValueOrDefault(key) ?? [];
            Assert.Equal(redemption.ComputedDiscount.Cents > 0 ? 1 : 0, booked.Count);
            if (booked.Count == 1)
            {
                Assert.Equal(redemption.ComputedDiscount.Cents, booked[0].Entries.Where(entry => entry.AccountId.EndsWith("/tenant-savings", StringComparison.Ordinal)).Sum(entry => entry.Amount.Cents));
            }
        }

        var cancellations = redemptions.Where(item => item.Kind == Domain.RedemptionKind.Cancellation).ToList();
        foreach (var cancellation in cancellations)
        {
            var original = Assert.Single(originals, item => item.Id == cancellation.CancelsRedemptionId);
            var reversals = byKey.GetValueOrDefault(Ledger.IdempotencyKeys.Reversal(Ledger.IdempotencyKeys.Redemption(original.Id))) ?? [];
            Assert.Equal(original.ComputedDiscount.Cents > 0 ? 1 : 0, reversals.Count);
        }

        var redemptionIds = originals.Select(item => Ledger.IdempotencyKeys.Redemption(item.Id)).ToHashSet();
        Assert.All(transactions.Where(item => item.Kind == Ledger.TransactionKind.Redemption), item => Assert.Contains(item.IdempotencyKey, redemptionIds));
        Assert.All(transactions, item => Assert.True(Ledger.LedgerRules.IsBalanced(item.Entries.Select(entry => (entry.Side, entry.Amount))), item.IdempotencyKey));
        return (originals.Count, cancellations.Count);
    }

    /// <summary>The rejected events stored for the world's partner.</summary>
    public async Task<int> StoredRejectionsAsync()
    {
        await using var db = await DbAsync();
        return await db.Redemptions.CountAsync(item => item.PartnerId == PartnerId && item.Outcome == Domain.RedemptionOutcome.Rejected);
    }

    /// <summary>A context on the world's hub database, for what a test checks or sets up below the hub's APIs.</summary>
    public Task<HlmHubDbContext> DbAsync() => _hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
}
