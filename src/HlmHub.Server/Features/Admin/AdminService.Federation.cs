using HlmHub.Domain;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Federation agreements: a club admits a neighbouring landlord's households with both parties' consent.</summary>
internal sealed partial class AdminService
{
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.FederationAgreement> ProposeFederation(V1.ProposeFederationRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var club = await RequireClubAsync(db, "club_id", request.ClubId, cancellationToken);
        var agreement = FederationAgreement.Propose(Guid.CreateVersion7(Now), club, request.LandlordId, request.ProposedByLandlordId, Now);
        await RequireLandlordAsync(db, "landlord_id", agreement.LandlordId, cancellationToken);
        var live = await db.FederationAgreements.AnyAsync(
            existing => existing.ClubId == club.Id && existing.LandlordId == agreement.LandlordId && existing.Status != FederationStatus.Ended,
            cancellationToken);
        if (live)
        {
            throw AlreadyExists($"landlord_id: club '{club.Id}' already has a proposed or active agreement with landlord '{agreement.LandlordId}'");
        }

        db.FederationAgreements.Add(agreement);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, caller.ClientId, "federation agreement", agreement.Id.ToString());
        return AdminMapping.ToProto(agreement);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.FederationAgreement> AcceptFederation(V1.AcceptFederationRequest request, ServerCallContext context) =>
        ChangeAgreementAsync(
            request.AgreementId,
            "accepted",
            (agreement, club) => agreement.Accept(club, request.AcceptedByLandlordId, Now),
            context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.FederationAgreement> EndFederation(V1.EndFederationRequest request, ServerCallContext context) =>
        ChangeAgreementAsync(
            request.AgreementId,
            "ended",
            (agreement, club) => agreement.End(club, request.EndedByLandlordId, Now),
            context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListFederationAgreementsResponse> ListFederationAgreements(V1.ListFederationAgreementsRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        var clubId = ClubsInScope(context.GetCaller(), request.ClubId);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var agreements = await db.FederationAgreements.AsNoTracking()
            .Where(agreement => clubId == null || agreement.ClubId == clubId)
            .OrderBy(agreement => agreement.ClubId)
            .ThenBy(agreement => agreement.ProposedAt)
            .ThenBy(agreement => agreement.Id)
            .Page(page)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListFederationAgreementsResponse { NextPageToken = AdminPaging.NextToken(page, agreements.Count) };
        response.Agreements.AddRange(agreements.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    private async Task<V1.FederationAgreement> ChangeAgreementAsync(
        string agreementId, string change, Action<FederationAgreement, Club> apply, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        var id = AdminMapping.RequireGuid("agreement_id", agreementId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var agreement = await db.FederationAgreements.SingleOrDefaultAsync(existing => existing.Id == id, cancellationToken)
            ?? throw NotFound($"agreement_id: federation agreement '{id}' does not exist");
        caller.EnsureOwns(OwnerKind.Club, agreement.ClubId);
        var club = await RequireClubAsync(db, "club_id", agreement.ClubId, cancellationToken);
        apply(agreement, club);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Changed(logger, caller.ClientId, "federation agreement", agreement.Id.ToString(), change);
        return AdminMapping.ToProto(agreement);
    }
}
