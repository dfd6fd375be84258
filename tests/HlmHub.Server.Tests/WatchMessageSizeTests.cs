using Google.Protobuf;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Domain = HlmHub.Domain;

namespace HlmHub.Server.Tests;

/// <summary>
/// A <c>Watch</c> page is <c>Eligibility:WatchPageSize</c> households, each with an entry per club of the partner it
/// belongs to: its encoded size depends on the data, not on the setting. The hub's send limit
/// (<c>Hub:MaxMessageSizeBytes</c>) must never end the stream mid-snapshot; the page goes in several messages instead.
/// </summary>
public sealed class WatchMessageSizeTests
{
    // Small enough that a page of 300 households in two clubs (600 entries of about 70 bytes) is well over it.
    private const int MaxMessageSizeBytes = 16 * 1024;

    [Fact]
    public async Task Watch_ASnapshotPageLargerThanTheMessageLimit_ComesInSeveralMessagesWithinIt()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(
            database,
            $"--Hub:MaxMessageSizeBytes={MaxMessageSizeBytes}",
            // A statement of the default 20,000 event ids could not fit 16 KiB: the hub would refuse to start.
            "--Statements:MaxEventIds=50",
            "--Statements:MaxLines=10",
            // Nor a report of 100 discrepancies, the problems of a session or a page of member tokens, at their longest.
            "--Reconciliation:MaxDiscrepanciesInReport=4",
            "--Roster:MaxProblemsReported=4",
            "--Roster:MemberTokensPageSize=40",
            "--Eligibility:WatchPageSize=500",
            "--Eligibility:WatchSettleDelay=00:00:00");
        var admin = await hub.HubAdminAsync();
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var bakery = await admin.CreatePartnerAsync(SampleData.Bakery());
        var clubs = new List<Club>();
        for (var index = 0; index < 2; index++)
        {
            var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
            await admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
            clubs.Add(club);
        }

        var members = await AddMembersAsync(hub, landlord.Id, [.. clubs.Select(club => club.Id)], count: 300);
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Partner,
            DisplayName = "Bakery",
            PartnerId = bakery.Id,
            Scopes = { "hlmhub.offers.read" },
        }, options));
        var token = await hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
        var eligibility = new EligibilityService.EligibilityServiceClient(hub.Channel);

        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var call = eligibility.Watch(
            new WatchEligibilityRequest(),
            new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, cancellationToken: deadline.Token));
        var snapshot = new List<EligibilityUpdate>();
        while (await call.ResponseStream.MoveNext(deadline.Token))
        {
            snapshot.Add(call.ResponseStream.Current);
            if (call.ResponseStream.Current.Cursor.Length > 0)
            {
                break;
            }
        }

        var pairs = snapshot.SelectMany(update => update.Entries).Select(entry => (entry.MemberToken, entry.ClubId)).ToList();
        Assert.True(snapshot.Count >= 3, $"600 entries of about 70 bytes need at least 3 messages of 16 KiB (got {snapshot.Count})");
        Assert.All(snapshot, update => Assert.True(update.CalculateSize() <= MaxMessageSizeBytes, $"a message of {update.CalculateSize()} bytes"));
        Assert.All(snapshot, update => Assert.True(update.Snapshot));
        Assert.All(snapshot[..^1], update => Assert.Empty(update.Cursor));
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
        Assert.Equal(
            members.SelectMany(member => clubs.Select(club => (member, club.Id))).Order(),
            pairs.Order());
    }

    /// <summary>Households of <paramref name="landlordId"/>, each a member of every club, written as a roster sync would.</summary>
    private static async Task<List<string>> AddMembersAsync(HubHost hub, string landlordId, IReadOnlyList<string> clubIds, int count)
    {
        var now = TimeProvider.System.GetUtcNow();
        await using var db = await hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        var clubs = await db.Clubs.Where(club => clubIds.Contains(club.Id)).ToListAsync();
        var tokens = new List<string>();
        for (var index = 0; index < count; index++)
        {
            var token = "mt_" + Guid.NewGuid().ToString("N");
            var household = Domain.Household.Create(Guid.NewGuid(), landlordId, "REF-" + Guid.NewGuid().ToString("N")[..12], token, 3, false, now);
            db.Households.Add(household);
            foreach (var club in clubs)
            {
                db.Memberships.Add(Domain.Membership.Join(club, household, landlordFederated: false, now));
            }

            tokens.Add(token);
        }

        await db.SaveChangesAsync();
        return tokens;
    }
}
