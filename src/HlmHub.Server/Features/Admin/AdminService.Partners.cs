using HlmHub.Domain;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>Partners and their contracts with clubs.</summary>
internal sealed partial class AdminService
{
    // Partners are shared by every club (one company may contract with several clubs), so any administrator
    // may register and list them; what ties a partner to a club is a contract, which is club-owned.
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.None)]
    public override async Task<V1.Partner> CreatePartner(V1.CreatePartnerRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var partner = Partner.Create(
            request.Id, request.Name, AdminMapping.ToDomain(request.Kind), AdminMapping.NullIfEmpty(request.Trade), request.Siret, request.InQpv, Now);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await RefuseDuplicateAsync(db.Partners, existing => existing.Id == partner.Id, $"id: partner '{partner.Id}' already exists", cancellationToken);

        await RefuseDuplicateAsync(db.Partners, existing => existing.Siret == partner.Siret, $"siret: another partner has SIRET {partner.Siret}", cancellationToken);

        db.Partners.Add(partner);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, context.GetCaller().ClientId, "partner", partner.Id);
        return AdminMapping.ToProto(partner);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.None)]
    public override async Task<V1.ListPartnersResponse> ListPartners(V1.ListPartnersRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var partners = await db.Partners.AsNoTracking().OrderBy(partner => partner.Id).Page(page).ToListAsync(context.CancellationToken);
        var response = new V1.ListPartnersResponse { NextPageToken = AdminPaging.NextToken(page, partners.Count) };
        response.Partners.AddRange(partners.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.Contract> CreateContract(V1.CreateContractRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        caller.EnsureOwns(OwnerKind.Club, request.ClubId);
        var startDate = AdminMapping.RequireDate("start_date", request.StartDate);
        var endDate = AdminMapping.ParseDate("end_date", request.EndDate);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var club = await RequireClubAsync(db, "club_id", request.ClubId, cancellationToken);
        var partner = await RequirePartnerAsync(db, "partner_id", request.PartnerId, cancellationToken);
        await RefuseDuplicateAsync(db.Contracts, existing => existing.Id == request.Id, $"id: contract '{request.Id}' already exists", cancellationToken);

        var activeContracts = await ActiveContractsOfClubAsync(db, club.Id, cancellationToken);
        var contract = Contract.Create(
            request.Id,
            club,
            partner,
            AdminMapping.ToMoney(request.HasYearlyFeeCents, request.YearlyFeeCents),
            startDate,
            endDate,
            activeContracts,
            Now);
        db.Contracts.Add(contract);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, caller.ClientId, "contract", contract.Id);
        return AdminMapping.ToProto(contract);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.Contract> SuspendContract(V1.SuspendContractRequest request, ServerCallContext context) =>
        ChangeContractAsync(request.ContractId, "suspended", contract => contract.Suspend(), context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.Contract> EndContract(V1.EndContractRequest request, ServerCallContext context)
    {
        var endDate = AdminMapping.RequireDate("end_date", request.EndDate);
        return ChangeContractAsync(request.ContractId, "ended", contract => contract.End(endDate), context);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListContractsResponse> ListContracts(V1.ListContractsRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        var clubId = ClubsInScope(context.GetCaller(), request.ClubId);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var contracts = await db.Contracts.AsNoTracking()
            .Where(contract => clubId == null || contract.ClubId == clubId)
            .OrderBy(contract => contract.Id)
            .Page(page)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListContractsResponse { NextPageToken = AdminPaging.NextToken(page, contracts.Count) };
        response.Contracts.AddRange(contracts.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    private async Task<V1.Contract> ChangeContractAsync(string contractId, string change, Action<Contract> apply, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var contract = await RequireContractAsync(db, "contract_id", contractId, cancellationToken);
        caller.EnsureOwns(OwnerKind.Club, contract.ClubId);
        apply(contract);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Changed(logger, caller.ClientId, "contract", contract.Id, change);
        return AdminMapping.ToProto(contract);
    }

    // Only building-trade holders matter to the one-per-trade rule.
    private static Task<List<Contract>> ActiveContractsOfClubAsync(HlmHubDbContext db, string clubId, CancellationToken cancellationToken) =>
        db.Contracts.AsNoTracking()
            .Where(contract => contract.ClubId == clubId && contract.Status == ContractStatus.Active && contract.Trade != null)
            .ToListAsync(cancellationToken);
}
