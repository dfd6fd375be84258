using HlmHub.Domain;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Offers and their versions: a change of terms is always a new version, never an edit.</summary>
internal sealed partial class AdminService
{
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.Offer> CreateOffer(V1.CreateOfferRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var contract = await RequireOwnedContractAsync(db, caller, "contract_id", request.ContractId, cancellationToken);
        var (offer, version) = Offer.Create(request.Id, contract, request.Title, AdminMapping.ToDomain(request.Terms, Now), Now);
        await RefuseDuplicateAsync(db.Offers, existing => existing.Id == offer.Id, $"id: offer '{offer.Id}' already exists", cancellationToken);

        db.Offers.Add(offer);
        db.OfferVersions.Add(version);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, caller.ClientId, "offer", offer.Id);
        return AdminMapping.ToProto(offer, version);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.Offer> CreateOfferVersion(V1.CreateOfferVersionRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var offerId = AdminMapping.LookupId("offer_id", request.OfferId);
        var offer = await db.Offers.SingleOrDefaultAsync(existing => existing.Id == offerId, cancellationToken)
            ?? throw Missing(caller, $"offer_id: offer '{request.OfferId}' does not exist");
        caller.EnsureOwns(OwnerKind.Club, offer.ClubId);
        var contract = await RequireOwnedContractAsync(db, caller, "contract_id", offer.ContractId, cancellationToken);
        if (contract.StatusAt(Now) == ContractStatus.Ended)
        {
            throw new DomainException(DomainErrorKind.FailedPrecondition, "offer_id", $"the offer's contract '{contract.Id}' has ended");
        }

        // The earlier versions are left untouched (a redeemed one is immutable): only the new one is added.
        var version = offer.Revise(AdminMapping.ToDomain(request.Terms, Now), Now);
        db.OfferVersions.Add(version);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Changed(logger, caller.ClientId, "offer", offer.Id, $"version {version.Version}");
        return AdminMapping.ToProto(offer, version);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListOffersResponse> ListOffers(V1.ListOffersRequest request, ServerCallContext context)
    {
        var clubId = ClubsInScope(context.GetCaller(), request.ClubId);
        var filters = AdminPaging.Filters(nameof(ListOffers), clubId ?? "");
        var page = AdminPaging.ReadFiltered(request.PageSize, request.PageToken, filters);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var offers = await (
                from offer in db.Offers.AsNoTracking()
                join version in db.OfferVersions.AsNoTracking()
                    on new { OfferId = offer.Id, Version = offer.CurrentVersion } equals new { version.OfferId, version.Version }
                where clubId == null || offer.ClubId == clubId
                orderby offer.Id
                select new { offer, version })
            .Skip(page.Offset)
            .Take(page.FetchCount)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListOffersResponse { NextPageToken = AdminPaging.NextFilteredToken(page, offers.Count, filters) };
        response.Offers.AddRange(offers.Take(page.Size).Select(row => AdminMapping.ToProto(row.offer, row.version)));
        return response;
    }
}
