using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Identity;
using HlmHub.Server.Features.Admin;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Federation;

/// <summary>
/// <c>hlmhub.v1.FederationService</c> (protos/hlmhub/v1/federation.proto): landlords' own side of federation. The
/// invited landlord accepts a club's proposal with its own client and token, and either party may end an agreement.
/// The acting landlord is always the one the token is bound to, never a request field, so the hub holds each
/// party's own consent. Scope <c>hlmhub.federation</c>, separate from <c>hlmhub.roster</c>: consenting to share
/// households with another landlord's club is a decision a roster-pushing system should not be able to make alone.
/// </summary>
internal sealed class FederationService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    TimeProvider timeProvider,
    ILogger<FederationService> logger) : V1.FederationService.FederationServiceBase
{
    /// <summary>The scope every rpc of the service requires.</summary>
    public const string Scope = "hlmhub.federation";

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override async Task<V1.ListFederationProposalsResponse> ListFederationProposals(V1.ListFederationProposalsRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var landlordId = CallerLandlord(context);
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var hostedClubs = db.Clubs.Where(club => club.HostLandlordId == landlordId).Select(club => club.Id);
        var agreements = await db.FederationAgreements.AsNoTracking()
            .Where(agreement => agreement.LandlordId == landlordId || hostedClubs.Contains(agreement.ClubId))
            // Newest first: a proposal awaiting consent, the latest of a club's agreements, does not hide behind years
            // of ended ones. By the time proposed, which a change of status does not move: pages are by position.
            .OrderByDescending(agreement => agreement.ProposedAt)
            .ThenByDescending(agreement => agreement.Id)
            .Page(page)
            .ToListAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        var response = new V1.ListFederationProposalsResponse { NextPageToken = AdminPaging.NextToken(page, agreements.Count) };
        response.Agreements.AddRange(agreements.Take(page.Size).Select(agreement => AdminMapping.ToProto(agreement, now)));
        return response;
    }

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override Task<V1.FederationAgreement> AcceptFederation(V1.AcceptFederationRequest request, ServerCallContext context) =>
        ChangeAsync(
            request.AgreementId,
            "accepted",
            // Only the invited landlord consents: the host's consent is its proposal.
            (agreement, club) => agreement.LandlordId,
            (agreement, club, landlordId, now) => agreement.Accept(club, landlordId, now),
            context);

    [RpcPolicy(Scope, CallerKind.Landlord, Ownership.OwnLandlord)]
    public override Task<V1.FederationAgreement> EndFederation(V1.EndFederationRequest request, ServerCallContext context)
    {
        var endsAt = AdminMapping.ToEnd("ends_at", request.EndsAt);
        return ChangeAsync(
            request.AgreementId,
            "ended",
            // Either party: the caller acts as the invited landlord if it is that one, else as the club's host.
            (agreement, club) => agreement.LandlordId == context.GetCaller().LandlordId ? agreement.LandlordId : club.HostLandlordId,
            (agreement, club, landlordId, now) => agreement.End(club, landlordId, endsAt, now),
            context);
    }

    /// <summary>
    /// Loads the agreement, proves the caller is <paramref name="party"/> (PERMISSION_DENIED otherwise, before
    /// anything is written), applies the change for that landlord and saves; decided again on fresh data if the other
    /// party changed the agreement meanwhile (<see cref="FederationAgreementChanges"/>).
    /// </summary>
    private async Task<V1.FederationAgreement> ChangeAsync(
        string agreementId,
        string change,
        Func<FederationAgreement, Club, string> party,
        Action<FederationAgreement, Club, string, DateTimeOffset> apply,
        ServerCallContext context)
    {
        var caller = context.GetCaller();
        var id = AdminMapping.RequireGuid("agreement_id", agreementId);
        var landlordId = "";
        var (agreement, now) = await FederationAgreementChanges.ChangeAsync(dbContextFactory, timeProvider, id, (loaded, club, at) =>
        {
            if (caller.LandlordId != loaded.LandlordId && caller.LandlordId != club.HostLandlordId)
            {
                // A landlord that is neither party learns nothing of the agreement, not even that it exists or whose it is.
                throw new RpcException(new Status(StatusCode.NotFound, $"agreement_id: federation agreement '{id}' does not exist"));
            }

            landlordId = party(loaded, club);
            caller.EnsureOwns(OwnerKind.Landlord, landlordId);
            apply(loaded, club, landlordId, at);
        }, context.CancellationToken);
        FederationLog.Changed(logger, caller.ClientId, landlordId, agreement.Id, agreement.ClubId, change);
        return AdminMapping.ToProto(agreement, now);
    }

    // The landlord a list is about is the caller's own, by its token: the ownership check holds by construction,
    // and is made so the policy's declared rule is visibly enforced.
    private static string CallerLandlord(ServerCallContext context)
    {
        var caller = context.GetCaller();
        var landlordId = caller.LandlordId ?? "";
        caller.EnsureOwns(OwnerKind.Landlord, landlordId);
        return landlordId;
    }
}

/// <summary>Federation log messages (event ids 4400-4499): who consented to or ended which agreement.</summary>
internal static partial class FederationLog
{
    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "Landlord client {ClientId} ({LandlordId}) {Change} federation agreement {AgreementId} with club {ClubId}.")]
    public static partial void Changed(ILogger logger, string clientId, string landlordId, Guid agreementId, string clubId, string change);
}
