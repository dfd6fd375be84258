using System.Collections.Concurrent;
using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Identity.Tests.Secured;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>Records which handlers ran past their security checks, so tests can prove a refused call did nothing.</summary>
internal sealed class HandlerProbe
{
    public ConcurrentQueue<string> Executed { get; } = new();

    /// <summary>The flow of the last <c>ForgetsOwnership</c> call, as work the call started and left running would hold it.</summary>
    public ExecutionContext? LeftBehind { get; set; }
}

/// <summary>The secured test service: each generated override declares a policy and records that it executed.</summary>
internal sealed class SecuredTestService(HandlerProbe probe, IDbContextFactory<HlmHubDbContext> dbContextFactory) : SecuredService.SecuredServiceBase
{
    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public override Task<CallerReply> WhoAmI(OwnedRequest request, ServerCallContext context) => Execute(nameof(WhoAmI), context);

    [RpcPolicy("hlmhub.offers.read", CallerKind.Partner, Ownership.OwnPartner)]
    public override Task<CallerReply> ReadOffers(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Partner, request.OwnerId);
        return Execute(nameof(ReadOffers), context);
    }

    [RpcPolicy("hlmhub.roster", CallerKind.Landlord, Ownership.OwnLandlord)]
    public override Task<CallerReply> PushRoster(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Landlord, request.OwnerId);
        return Execute(nameof(PushRoster), context);
    }

    [RpcPolicy("hlmhub.admin", CallerKind.Admin, Ownership.OwnClub)]
    public override Task<CallerReply> ManageClub(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.OwnerId);
        return Execute(nameof(ManageClub), context);
    }

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.OwnPartner)]
    public override Task<CallerReply> ForgetsOwnership(OwnedRequest request, ServerCallContext context)
    {
        probe.LeftBehind = ExecutionContext.Capture();
        return Execute(nameof(ForgetsOwnership), context);
    }

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.OwnPartner)]
    public override async Task<CallerReply> WritesBeforeChecking(OwnedRequest request, ServerCallContext context)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(context.CancellationToken);
        db.Landlords.Add(Landlord.Create(request.OwnerId, "Written before the ownership check", "732829320", TimeProvider.System.GetUtcNow()));
        await db.SaveChangesAsync(context.CancellationToken);
        context.GetCaller().EnsureOwns(OwnerKind.Partner, request.OwnerId);
        return await Execute(nameof(WritesBeforeChecking), context);
    }

    private Task<CallerReply> Execute(string rpc, ServerCallContext context)
    {
        probe.Executed.Enqueue(rpc);
        var caller = context.GetCaller();
        var reply = new CallerReply { ClientId = caller.ClientId, Kind = caller.Kind.ToString(), Issuer = caller.Issuer };
        reply.Scopes.AddRange(caller.Scopes.Order(StringComparer.Ordinal));
        return Task.FromResult(reply);
    }
}

/// <summary>The same service with one rpc lacking a policy: mapping it must fail start-up.</summary>
internal sealed class UndeclaredTestService : SecuredService.SecuredServiceBase
{
    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public override Task<CallerReply> WhoAmI(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());

    public override Task<CallerReply> PushRoster(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());
}
