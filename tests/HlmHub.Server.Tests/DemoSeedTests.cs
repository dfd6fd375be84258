using System.Text.Json;
using HlmHub.Contracts.V1;
using Grpc.Core;
using HlmHub.Server.Features.Demo;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Server.Tests;

/// <summary>
/// <c>--seed-demo</c> on the real hub (SQLite and PostgreSQL): a newcomer gets a realistic club with working demo credentials,
/// and seeding again changes nothing.
/// </summary>
public sealed class DemoSeedTests
{
    [Fact]
    public Task SeedDemoTwice_SeedsOnceWithWorkingOwnerOnlyCredentials() => SeedTwiceAsync(TestProvider.Sqlite);

    [Fact]
    public Task SeedDemoTwiceOnPostgres_SeedsOnceWithWorkingOwnerOnlyCredentials() => SeedTwiceAsync(TestProvider.Postgres);

    private static async Task SeedTwiceAsync(TestProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var credentialsPath = Path.Combine(database.DataDirectory, DemoSeeder.CredentialsFileName);

        DemoSnapshot first;
        await using (var hub = await HubHost.StartAsync(database, "--seed-demo"))
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentialsPath));
            }

            var credentials = ReadCredentials(credentialsPath);
            Assert.Equal(["club_admin", "landlord", "partner"], credentials.Keys.Order());
            foreach (var (clientId, secret, _) in credentials.Values)
            {
                Assert.False(hub.Logs.Any(record => record.Message.Contains(secret, StringComparison.Ordinal)), "a secret was logged");
                await hub.GetTokenAsync(clientId, secret);
            }

            // The demo club administrator sees its club, the federated neighbour and the partners' contracts.
            var clubAdmin = hub.Admin(await hub.GetTokenAsync(credentials["club_admin"].ClientId, credentials["club_admin"].Secret));
            var clubs = await clubAdmin.CallAsync((client, options) => client.ListClubsAsync(new ListClubsRequest(), options));
            Assert.Equal(DemoData.ClubId, Assert.Single(clubs.Clubs).Id);
            var agreements = await clubAdmin.CallAsync((client, options) => client.ListFederationAgreementsAsync(new ListFederationAgreementsRequest(), options));
            var agreement = Assert.Single(agreements.Agreements);
            Assert.Equal((DemoData.NeighbourLandlordId, FederationStatus.Active), (agreement.LandlordId, agreement.Status));
            var contracts = await clubAdmin.CallAsync((client, options) => client.ListContractsAsync(new ListContractsRequest(), options));
            Assert.Equal(100_000L, Assert.Single(contracts.Contracts, contract => contract.PartnerId == DemoData.PlumberId).YearlyFeeCents);
            Assert.Equal(4, contracts.Contracts.Count);
            var offers = await clubAdmin.CallAsync((client, options) => client.ListOffersAsync(new ListOffersRequest(), options));
            Assert.Equal(7, Assert.Single(offers.Offers, offer => offer.PartnerId == DemoData.InsurerId).Current.Terms.RoomTariffs.Count);
            Assert.Equal(10_000L, Assert.Single(offers.Offers, offer => offer.PartnerId == DemoData.DrivingSchoolId).Current.Terms.FixedDiscountCents);

            // The demo partner is a partner: the Admin API refuses it.
            var partner = hub.Admin(await hub.GetTokenAsync(credentials["partner"].ClientId, credentials["partner"].Secret));
            var refused = await partner.FailsAsync((client, options) => client.ListClubsAsync(new ListClubsRequest(), options));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

            first = await DemoSnapshot.TakeAsync(hub, credentialsPath);
            Assert.Equal(DemoData.HostHouseholds + DemoData.NeighbourHouseholds, first.Households);
            Assert.InRange(first.Memberships, 200, first.Households);
        }

        await using (var hub = await HubHost.StartAsync(database, "--seed-demo"))
        {
            var second = await DemoSnapshot.TakeAsync(hub, credentialsPath);
            Assert.Equal(first, second);
            Assert.Contains(hub.Logs, record => record.EventId.Id == 4201 && record.Message.StartsWith("Demo seeded: 0 records and 0 clients", StringComparison.Ordinal));
        }
    }

    private static Dictionary<string, (string ClientId, string Secret, string Scope)> ReadCredentials(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("clients").EnumerateArray().ToDictionary(
            client => client.GetProperty("role").GetString()!,
            client => (client.GetProperty("client_id").GetString()!, client.GetProperty("client_secret").GetString()!, client.GetProperty("scope").GetString()!));
    }

    /// <summary>What a second seed must leave exactly as it was.</summary>
    private sealed record DemoSnapshot(string CredentialsFile, int Landlords, int Partners, int Contracts, int Offers, int OfferVersions, int Agreements, int Households, int Memberships, int Clients)
    {
        public static async Task<DemoSnapshot> TakeAsync(HubHost hub, string credentialsPath)
        {
            await using var db = await hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync().DefaultTimeout();
            return new DemoSnapshot(
                await File.ReadAllTextAsync(credentialsPath).DefaultTimeout(),
                await db.Landlords.CountAsync().DefaultTimeout(),
                await db.Partners.CountAsync().DefaultTimeout(),
                await db.Contracts.CountAsync().DefaultTimeout(),
                await db.Offers.CountAsync().DefaultTimeout(),
                await db.OfferVersions.CountAsync().DefaultTimeout(),
                await db.FederationAgreements.CountAsync().DefaultTimeout(),
                await db.Households.CountAsync().DefaultTimeout(),
                await db.Memberships.CountAsync().DefaultTimeout(),
                await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().CountAsync().DefaultTimeout());
        }
    }
}
