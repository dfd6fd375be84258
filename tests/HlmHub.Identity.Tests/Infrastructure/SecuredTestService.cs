using System.Collections.Concurrent;
using HlmHub.Grpc;
using HlmHub.Identity.Tests.Secured;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>Records which handlers ran past their security checks, so tests can prove a refused call did nothing.</summary>
internal sealed class HandlerProbe
{
    public ConcurrentQueue<string> Executed { get; } = new();
}

/// <summary>The secured test service: each rpc declares a policy and records that it executed.</summary>
internal sealed class SecuredTestService(HandlerProbe probe)
{
    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public Task<CallerReply> WhoAmI(OwnedRequest request, ServerCallContext context) => Execute(nameof(WhoAmI), context);

    [RpcPolicy("hlmhub.offers.read", CallerKind.Partner, Ownership.OwnPartner)]
    public Task<CallerReply> ReadOffers(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Partner, request.OwnerId);
        return Execute(nameof(ReadOffers), context);
    }

    [RpcPolicy("hlmhub.roster", CallerKind.Landlord, Ownership.OwnLandlord)]
    public Task<CallerReply> PushRoster(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Landlord, request.OwnerId);
        return Execute(nameof(PushRoster), context);
    }

    [RpcPolicy("hlmhub.admin", CallerKind.Admin, Ownership.OwnClub)]
    public Task<CallerReply> ManageClub(OwnedRequest request, ServerCallContext context)
    {
        context.GetCaller().EnsureOwns(OwnerKind.Club, request.OwnerId);
        return Execute(nameof(ManageClub), context);
    }

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.OwnPartner)]
    public Task<CallerReply> ForgetsOwnership(OwnedRequest request, ServerCallContext context) => Execute(nameof(ForgetsOwnership), context);

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
internal sealed class UndeclaredTestService
{
    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public Task<CallerReply> WhoAmI(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public Task<CallerReply> ReadOffers(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());

    public Task<CallerReply> PushRoster(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public Task<CallerReply> ManageClub(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());

    [RpcPolicy("hlmhub.test", CallerKind.Any, Ownership.None)]
    public Task<CallerReply> ForgetsOwnership(OwnedRequest request, ServerCallContext context) => Task.FromResult(new CallerReply());
}
