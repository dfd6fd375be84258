using HlmHub.Domain;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Server.Features.Federation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Federation agreements: a club admits a neighbouring landlord's households with both parties' consent.</summary>
internal sealed partial class AdminService
{
    // The club's administrator acts for the host landlord: it proposes, and the invited landlord accepts through its
    // own client (FederationService), so the hub holds each party's own consent.
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.FederationAgreement> ProposeFederation(V1.ProposeFederationRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var club = await RequireClubAsync(db, "club_id", request.ClubId, cancellationToken);
        // As stored, so the answer's proposed_at is the one the agreement is listed with.
        var now = AdminMapping.AsStored(Now);
        var agreement = FederationAgreement.Propose(Guid.CreateVersion7(now), club, request.LandlordId, club.HostLandlordId, now);
        await RequireLandlordAsync(db, "landlord_id", agreement.LandlordId, cancellationToken);
        var live = await db.FederationAgreements
            .Where(existing => existing.ClubId == club.Id && existing.LandlordId == agreement.LandlordId && existing.Status != FederationStatus.Ended)
            .ToListAsync(cancellationToken);
        // An agreement whose notice ran out is over even though its row still says active: record it, so the
        // one-live-agreement index lets the new proposal in.
        // Saved on its own first: the unique index is filtered on the status, which EF Core cannot order by.
        if (live.Any(existing => !existing.Settle(now)))
        {
            throw AlreadyExists($"landlord_id: club '{club.Id}' already has a proposed or active agreement with landlord '{agreement.LandlordId}'");
        }

        if (live.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        db.FederationAgreements.Add(agreement);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, caller.ClientId, "federation agreement", agreement.Id.ToString());
        return AdminMapping.ToProto(agreement, now);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.FederationAgreement> EndFederation(V1.EndFederationRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        var id = AdminMapping.RequireGuid("agreement_id", request.AgreementId);
        var endsAt = AdminMapping.ToEnd("ends_at", request.EndsAt);
        // The neighbour may end the same agreement at the same moment: decided again on fresh data if it did.
        FederationAgreement agreement;
        DateTimeOffset now;
        try
        {
            (agreement, now) = await FederationAgreementChanges.ChangeAsync(dbContextFactory, timeProvider, id, (loaded, club, at) =>
            {
                caller.EnsureOwns(OwnerKind.Club, loaded.ClubId);
                loaded.End(club, club.HostLandlordId, endsAt, at);
            }, context.CancellationToken);
        }
        catch (RpcException unknown) when (unknown.StatusCode == StatusCode.NotFound)
        {
            // No such agreement: a club administrator is answered as for another club's.
            throw Missing(caller, unknown.Status.Detail);
        }

        AdminLog.Changed(logger, caller.ClientId, "federation agreement", agreement.Id.ToString(), "ended");
        return AdminMapping.ToProto(agreement, now);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListFederationAgreementsResponse> ListFederationAgreements(V1.ListFederationAgreementsRequest request, ServerCallContext context)
    {
        var clubId = ClubsInScope(context.GetCaller(), request.ClubId);
        var filters = AdminPaging.Filters(nameof(ListFederationAgreements), clubId ?? "");
        var page = AdminPaging.ReadFiltered(request.PageSize, request.PageToken, filters);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var agreements = await db.FederationAgreements.AsNoTracking()
            .Where(agreement => clubId == null || agreement.ClubId == clubId)
            .OrderBy(agreement => agreement.ClubId)
            .ThenBy(agreement => agreement.ProposedAt)
            .ThenBy(agreement => agreement.Id)
            .Page(page)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListFederationAgreementsResponse { NextPageToken = AdminPaging.NextFilteredToken(page, agreements.Count, filters) };
        var now = Now;
        response.Agreements.AddRange(agreements.Take(page.Size).Select(agreement => AdminMapping.ToProto(agreement, now)));
        return response;
    }
}
