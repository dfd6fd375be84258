using System.Linq.Expressions;
using HlmHub.Domain;
using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// <c>hlmhub.v1.AdminService</c> (protos/hlmhub/v1/admin.proto): hub and club administrators manage landlords,
/// clubs, federation, partners, contracts, offers, fee payments and OAuth clients. Each rpc reads what it needs,
/// applies the domain rules and saves once, so a refused request changes nothing; failures become statuses in
/// <see cref="Hosting.ErrorMappingInterceptor"/>. This file: the shared helpers, landlords and clubs.
/// </summary>
internal sealed partial class AdminService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IClientRegistry clientRegistry,
    HlmHub.Reconciliation.ReconciliationEngine reconciliation,
    Microsoft.Extensions.Options.IOptions<HlmHub.Reconciliation.ReconciliationOptions> reconciliationOptions,
    CallerSlots<AdminService> runningReconciliations,
    HlmHub.Server.Features.Demo.DemoSeeder demoSeeder,
    TimeProvider timeProvider,
    ILogger<AdminService> logger) : V1.AdminService.AdminServiceBase
{
    /// <summary>The proto service's full name.</summary>
    public const string ServiceName = "hlmhub.v1.AdminService";

    /// <summary>The scope every Admin API rpc requires.</summary>
    public const string Scope = "hlmhub.admin";

    /// <summary>
    /// The id a hub administrator's "every club" ownership check is made on: a hub administrator owns every club,
    /// a club administrator never owns this one.
    /// </summary>
    private const string EveryClub = "*";

    /// <summary>
    /// The club id a club administrator's denial for an id that names no record is audited with: no club has it (ids
    /// are slugs), so the check denies a club administrator.
    /// </summary>
    private const string NoSuchRecord = "(no such record)";

    // ---- Landlords

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.Landlord> CreateLandlord(V1.CreateLandlordRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var landlord = Landlord.Create(request.Id, request.Name, request.Siren, Now);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await RefuseDuplicateAsync(db.Landlords, existing => existing.Id == landlord.Id, $"id: landlord '{landlord.Id}' already exists", cancellationToken);

        await RefuseDuplicateAsync(db.Landlords, existing => existing.Siren == landlord.Siren, $"siren: another landlord has SIREN {landlord.Siren}", cancellationToken);

        db.Landlords.Add(landlord);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, context.GetCaller().ClientId, "landlord", landlord.Id);
        return AdminMapping.ToProto(landlord);
    }

    // Landlords' names and SIRENs are public registry data: any administrator may list them.
    [RpcPolicy(Scope, CallerKind.Admin, Ownership.None)]
    public override async Task<V1.ListLandlordsResponse> ListLandlords(V1.ListLandlordsRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var landlords = await db.Landlords.AsNoTracking().OrderBy(landlord => landlord.Id).Page(page).ToListAsync(context.CancellationToken);
        var response = new V1.ListLandlordsResponse { NextPageToken = AdminPaging.NextToken(page, landlords.Count) };
        response.Landlords.AddRange(landlords.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    // ---- Clubs

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.Club> CreateClub(V1.CreateClubRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var club = Club.Create(
            request.Id,
            request.Name,
            request.HostLandlordId,
            AdminMapping.ToDomain(request.Kind),
            AdminMapping.ToMoney(request.HasMonthlySubscriptionCents, request.MonthlySubscriptionCents),
            Now);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        await RequireLandlordAsync(db, "host_landlord_id", club.HostLandlordId, cancellationToken);
        await RefuseDuplicateAsync(db.Clubs, existing => existing.Id == club.Id, $"id: club '{club.Id}' already exists", cancellationToken);

        db.Clubs.Add(club);
        await db.SaveChangesAsync(cancellationToken);
        AdminLog.Created(logger, context.GetCaller().ClientId, "club", club.Id);
        return AdminMapping.ToProto(club);
    }

    [RpcPolicy(Scope, CallerKind.Admin, Ownership.OwnClub)]
    public override async Task<V1.ListClubsResponse> ListClubs(V1.ListClubsRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        var clubId = ClubsInScope(context.GetCaller(), requestedClubId: "");
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        var clubs = await db.Clubs.AsNoTracking()
            .Where(club => clubId == null || club.Id == clubId)
            .OrderBy(club => club.Id)
            .Page(page)
            .ToListAsync(context.CancellationToken);
        var response = new V1.ListClubsResponse { NextPageToken = AdminPaging.NextToken(page, clubs.Count) };
        response.Clubs.AddRange(clubs.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    // ---- Shared helpers

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    /// <summary>
    /// The club a list is restricted to, after the ownership check: the requested club (which the caller must
    /// administer), else a club administrator's own club, else null for a hub administrator (every club).
    /// </summary>
    private static string? ClubsInScope(AuthenticatedCaller caller, string requestedClubId)
    {
        if (requestedClubId.Length > 0)
        {
            AdminMapping.LookupId("club_id", requestedClubId);
            caller.EnsureOwns(OwnerKind.Club, requestedClubId);
            return requestedClubId;
        }

        if (caller.ClubId is { } ownClub)
        {
            caller.EnsureOwns(OwnerKind.Club, ownClub);
            return ownClub;
        }

        caller.EnsureOwns(OwnerKind.Club, EveryClub);
        return null;
    }

    private static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    private static RpcException AlreadyExists(string message) => new(new Status(StatusCode.AlreadyExists, message));

    private static async Task RefuseDuplicateAsync<TEntity>(
        IQueryable<TEntity> existing, Expression<Func<TEntity, bool>> duplicate, string message, CancellationToken cancellationToken)
    {
        if (await existing.AnyAsync(duplicate, cancellationToken))
        {
            throw AlreadyExists(message);
        }
    }

    // Each id is checked before the lookup (AdminMapping.LookupId): one no query can hold is INVALID_ARGUMENT.
    private static async Task<Landlord> RequireLandlordAsync(HlmHubDbContext db, string field, string id, CancellationToken cancellationToken)
    {
        AdminMapping.LookupId(field, id);
        return await db.Landlords.SingleOrDefaultAsync(landlord => landlord.Id == id, cancellationToken)
            ?? throw NotFound($"{field}: landlord '{id}' does not exist");
    }

    private static async Task<Club> RequireClubAsync(HlmHubDbContext db, string field, string id, CancellationToken cancellationToken)
    {
        AdminMapping.LookupId(field, id);
        return await db.Clubs.SingleOrDefaultAsync(club => club.Id == id, cancellationToken)
            ?? throw NotFound($"{field}: club '{id}' does not exist");
    }

    private static async Task<Partner> RequirePartnerAsync(HlmHubDbContext db, string field, string id, CancellationToken cancellationToken)
    {
        AdminMapping.LookupId(field, id);
        return await db.Partners.SingleOrDefaultAsync(partner => partner.Id == id, cancellationToken)
            ?? throw NotFound($"{field}: partner '{id}' does not exist");
    }

    /// <summary>The contract <paramref name="id"/>, once <paramref name="caller"/> is known to administer its club (<see cref="Missing"/>).</summary>
    private static async Task<Contract> RequireOwnedContractAsync(
        HlmHubDbContext db, AuthenticatedCaller caller, string field, string id, CancellationToken cancellationToken)
    {
        AdminMapping.LookupId(field, id);
        var contract = await db.Contracts.SingleOrDefaultAsync(contract => contract.Id == id, cancellationToken)
            ?? throw Missing(caller, $"{field}: contract '{id}' does not exist");
        caller.EnsureOwns(OwnerKind.Club, contract.ClubId);
        return contract;
    }

    /// <summary>
    /// The answer to an id of a club-owned record (contract, offer, federation agreement) that names none: NOT_FOUND
    /// with <paramref name="message"/> for a hub administrator; for a club administrator the PERMISSION_DENIED that
    /// another club's record gets (audited as any denial), so that it cannot probe which ids exist in other clubs.
    /// </summary>
    private static RpcException Missing(AuthenticatedCaller caller, string message)
    {
        if (caller.Kind != CallerKind.HubAdmin)
        {
            // A club administrator owns no such club: this throws the denial another club's record gets.
            caller.EnsureOwns(OwnerKind.Club, NoSuchRecord);
        }

        return NotFound(message);
    }
}
