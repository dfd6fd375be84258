using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using HlmHub.Contracts.V1;
using Domain = HlmHub.Domain;

namespace HlmHub.Bench.Redemptions;

/// <summary>
/// What a partner needs to redeem, set up through the hub's own APIs only (so it works on a hub in another process):
/// with the hub administrator's token, a landlord, its club, a bakery with a contract and one offer; a landlord
/// client that syncs <c>households</c> households into the club with RosterService and lists their member tokens; a
/// partner client with scope <c>hlmhub.redemptions</c> whose credentials the caller exchanges for tokens.
/// </summary>
internal sealed record PartnerWorld(
    string LandlordId,
    string ClubId,
    string PartnerId,
    string ContractId,
    string OfferId,
    string PartnerClientId,
    string PartnerClientSecret,
    IReadOnlyList<string> MemberTokens)
{
    /// <summary>The scope of RedemptionService.</summary>
    public const string RedemptionScope = "hlmhub.redemptions";

    /// <summary>10 % off, no cap, not co-funded: the benchmark's main figure (one ledger transaction with 2 entries each).</summary>
    public static OfferTerms TenPercentUncapped() => new() { Kind = OfferKind.PercentDiscount, PercentBasisPoints = 1_000 };

    public static async Task<PartnerWorld> CreateAsync(
        GrpcChannel channel, Func<string, string, string?, CancellationToken, Task<string>> getToken, string adminToken, int households, OfferTerms terms, CancellationToken cancellationToken)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var admin = new AdminService.AdminServiceClient(channel);
        var adminOptions = Options(adminToken, cancellationToken);
        var landlord = await admin.CreateLandlordAsync(new CreateLandlordRequest { Id = "bailleur-" + suffix, Name = "Office Public de l'Habitat", Siren = LuhnNumber(9) }, adminOptions);
        var club = await admin.CreateClubAsync(new CreateClubRequest { Id = "club-" + suffix, Name = "Club des locataires", HostLandlordId = landlord.Id, Kind = ClubKind.TenantClub }, adminOptions);
        var partner = await admin.CreatePartnerAsync(new CreatePartnerRequest { Id = "boulangerie-" + suffix, Name = "Boulangerie de la Gare", Kind = PartnerKind.Merchant, Siret = LuhnNumber(14), InQpv = true }, adminOptions);
        var contract = await admin.CreateContractAsync(new CreateContractRequest { Id = "contrat-" + suffix, ClubId = club.Id, PartnerId = partner.Id, StartDate = "2026-01-01" }, adminOptions);
        var offer = await admin.CreateOfferAsync(new CreateOfferRequest { Id = "offre-" + suffix, ContractId = contract.Id, Title = "Remise sur le pain", Terms = terms }, adminOptions);
        var landlordClient = await admin.RegisterClientAsync(new RegisterClientRequest { Kind = ClientKind.Landlord, DisplayName = "Roster " + landlord.Id, LandlordId = landlord.Id, Scopes = { "hlmhub.roster" } }, adminOptions);
        var partnerClient = await admin.RegisterClientAsync(new RegisterClientRequest { Kind = ClientKind.Partner, DisplayName = "Till " + partner.Id, PartnerId = partner.Id, Scopes = { RedemptionScope } }, adminOptions);

        var landlordToken = await getToken(landlordClient.Client.ClientId, landlordClient.ClientSecret, "hlmhub.roster", cancellationToken);
        var memberTokens = await SyncHouseholdsAsync(new RosterService.RosterServiceClient(channel), Options(landlordToken, cancellationToken), club.Id, households, cancellationToken);
        return new PartnerWorld(landlord.Id, club.Id, partner.Id, contract.Id, offer.Id, partnerClient.Client.ClientId, partnerClient.ClientSecret, memberTokens);
    }

    /// <summary>Bearer token and cancellation for a call.</summary>
    public static CallOptions Options(string accessToken, CancellationToken cancellationToken) =>
        new(new Metadata { { "authorization", "Bearer " + accessToken } }, cancellationToken: cancellationToken);

    private static async Task<IReadOnlyList<string>> SyncHouseholdsAsync(
        RosterService.RosterServiceClient roster, CallOptions options, string clubId, int households, CancellationToken cancellationToken)
    {
        var limits = await roster.GetRosterLimitsAsync(new GetRosterLimitsRequest(), options);
        using (var sync = roster.SyncRoster(options))
        {
            await sync.RequestStream.WriteAsync(new SyncRosterRequest { Start = new SessionStart { SessionId = Guid.NewGuid().ToString(), Kind = SessionKind.FullSnapshot } }, cancellationToken);
            for (var first = 1; first <= households; first += limits.MaxItemsPerBatch)
            {
                var batch = new RosterBatch();
                for (var sequence = first; sequence < first + limits.MaxItemsPerBatch && sequence <= households; sequence++)
                {
                    batch.Items.Add(new HouseholdChange
                    {
                        Sequence = sequence,
                        Kind = ChangeKind.Upsert,
                        LandlordReference = "REF-" + sequence.ToString("D7", CultureInfo.InvariantCulture),
                        Version = 1,
                        Rooms = 1 + sequence % 7,
                        InQpv = sequence % 2 == 0,
                        ClubIds = { clubId },
                    });
                }

                await sync.RequestStream.WriteAsync(new SyncRosterRequest { Batch = batch }, cancellationToken);
            }

            await sync.RequestStream.WriteAsync(new SyncRosterRequest { Complete = new SessionComplete() }, cancellationToken);
            await sync.RequestStream.CompleteAsync();
            var response = await sync.ResponseAsync;
            if (response.Session.Created != households)
            {
                throw new InvalidOperationException($"The roster sync created {response.Session.Created} households, not {households}: {response}");
            }
        }

        var tokens = new List<string>(households);
        using var list = roster.ListMemberTokens(new ListMemberTokensRequest(), options);
        while (await list.ResponseStream.MoveNext(cancellationToken))
        {
            tokens.AddRange(list.ResponseStream.Current.Entries.Where(entry => entry.Active).Select(entry => entry.MemberToken));
        }

        return tokens;
    }

    /// <summary>A random SIREN (9 digits) or SIRET (14) that the hub's own check accepts.</summary>
    private static string LuhnNumber(int digits)
    {
        while (true)
        {
            var candidate = string.Concat(Enumerable.Range(0, digits).Select(index => (char)('0' + (index == 0 ? Random.Shared.Next(1, 10) : Random.Shared.Next(10)))));
            if (digits == 9 ? Domain.BusinessIdentifiers.IsValidSiren(candidate) : Domain.BusinessIdentifiers.IsValidSiret(candidate))
            {
                return candidate;
            }
        }
    }
}
