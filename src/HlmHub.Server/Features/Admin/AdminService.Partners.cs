using HlmHub.Domain;
using HlmHub.Domain.Ledger;
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

        var activeContracts = await ActiveContractsOfClubAsync(db, club.Id, Now, cancellationToken);
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
        return AdminMapping.ToProto(contract, Now);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.Contract> SuspendContract(V1.SuspendContractRequest request, ServerCallContext context) =>
        ChangeContractAsync(request.ContractId, "suspended", contract => contract.Suspend(Now), context);

    // The one-per-trade check reads the club's active contracts under the resumed contract's lock, as
    // CreateContract reads them: two contracts of one trade made active at once are stopped by the unique index
    // (IndexNames.OneActiveBuildingTradePerClub), and the loser is answered ABORTED, its retry FAILED_PRECONDITION.
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.Contract> ResumeContract(V1.ResumeContractRequest request, ServerCallContext context) =>
        ChangeContractAsync(request.ContractId, "resumed", async (db, contract, cancellationToken) =>
            contract.Resume(Now, await ActiveContractsOfClubAsync(db, contract.ClubId, Now, cancellationToken)), context);

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override Task<V1.Contract> EndContract(V1.EndContractRequest request, ServerCallContext context)
    {
        var endDate = AdminMapping.RequireDate("end_date", request.EndDate);
        return ChangeContractAsync(request.ContractId, "ended", async (db, contract, cancellationToken) =>
        {
            await RefuseEndBeforeAccruedFeeAsync(db, contract, endDate, cancellationToken);
            contract.End(endDate, Now);
        }, context);
    }

    // A yearly fee falls due while the contract runs; once accrued, it is owed. An end date moved back before it would
    // leave the fee in the ledger for a partner that reads as gone before it fell due, which the overdue check would
    // never flag and the fee report would show for ever: refuse it, naming the earliest last day.
    private async Task RefuseEndBeforeAccruedFeeAsync(HlmHubDbContext db, Contract contract, DateOnly lastDay, CancellationToken cancellationToken)
    {
        if (lastDay.Year is < Period.MinYear or > Period.MaxYear)
        {
            return; // Contract.End refuses it, naming the years
        }

        var dueAfter = FeeBooking.DueDatesBetween(contract, lastDay.AddDays(1), Period.DayOf(Now))
            .ToDictionary(dueDate => FeeBooking.AccrualKey(contract, dueDate), StringComparer.Ordinal);
        if (dueAfter.Count == 0)
        {
            return;
        }

        var keys = dueAfter.Keys.ToList();
        var accrued = await db.LedgerTransactions.AsNoTracking()
            .Where(transaction => keys.Contains(transaction.IdempotencyKey))
            .Select(transaction => transaction.IdempotencyKey)
            .ToListAsync(cancellationToken);
        if (accrued.Count > 0)
        {
            var earliest = accrued.Select(key => dueAfter[key]).Min();
            throw AdminMapping.Precondition(
                "end_date", $"the yearly fee that fell due on {earliest:yyyy-MM-dd} is already accrued: the contract's last day can be {earliest:yyyy-MM-dd} or later");
        }
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListContractsResponse> ListContracts(V1.ListContractsRequest request, ServerCallContext context)
    {
        var clubId = ClubsInScope(context.GetCaller(), request.ClubId);
        var filters = AdminPaging.Filters(nameof(ListContracts), clubId ?? "");
        var page = AdminPaging.ReadFiltered(request.PageSize, request.PageToken, filters);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var contracts = await db.Contracts.AsNoTracking()
            .Where(contract => clubId == null || contract.ClubId == clubId)
            .OrderBy(contract => contract.Id)
            .Page(page)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListContractsResponse { NextPageToken = AdminPaging.NextFilteredToken(page, contracts.Count, filters) };
        var now = Now;
        response.Contracts.AddRange(contracts.Take(page.Size).Select(contract => AdminMapping.ToProto(contract, now)));
        return response;
    }

    private Task<V1.Contract> ChangeContractAsync(string contractId, string change, Action<Contract> apply, ServerCallContext context) =>
        ChangeContractAsync(contractId, change, (_, contract, _) =>
        {
            apply(contract);
            return Task.CompletedTask;
        }, context);

    private async Task<V1.Contract> ChangeContractAsync(
        string contractId, string change, Func<HlmHubDbContext, Contract, CancellationToken, Task> apply, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        AdminMapping.LookupId("contract_id", contractId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // Locked before it is read: two changes at once, or a change and the fee job booking a fee (which takes the
        // same lock), each see what the other committed; without it an end date could be moved back before a fee
        // booked in between, or one change overwrite the other's status.
        await using var locked = await db.Database.BeginTransactionAsync(cancellationToken);
        await RowLocks.LockContractAsync(db, contractId, cancellationToken);
        var contract = await RequireOwnedContractAsync(db, caller, "contract_id", contractId, cancellationToken);
        // A contract past its last day in force is ended, whatever its row says: record it before any change.
        contract.Settle(Now);
        await apply(db, contract, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await locked.CommitAsync(cancellationToken);
        AdminLog.Changed(logger, caller.ClientId, "contract", contract.Id, change);
        return AdminMapping.ToProto(contract, Now);
    }

    // Only building-trade holders matter to the one-per-trade rule. A holder past its last day in force no longer
    // holds the trade: it is settled (recorded as ended) and saved first, so the unique index frees the trade too.
    private static async Task<List<Contract>> ActiveContractsOfClubAsync(HlmHubDbContext db, string clubId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var holders = await db.Contracts
            .Where(contract => contract.ClubId == clubId && contract.Status == ContractStatus.Active && contract.Trade != null)
            .ToListAsync(cancellationToken);
        var settled = holders.Where(contract => contract.Settle(now)).ToList();
        if (settled.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return [.. holders.Except(settled)];
    }
}
