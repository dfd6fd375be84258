using Google.Protobuf;
using HlmHub.Contracts.V1;
using HlmHub.Grpc;
using HlmHub.Grpc.Client;
using HlmHub.Server.Features.Admin;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>Calls hlmhub.v1.AdminService through our gRPC client, with a bearer token when given one.</summary>
internal sealed class AdminClient(GrpcChannel channel, string? accessToken)
{
    public Task<Landlord> CreateLandlordAsync(CreateLandlordRequest request) => CallAsync<CreateLandlordRequest, Landlord>("CreateLandlord", request);

    public Task<Club> CreateClubAsync(CreateClubRequest request) => CallAsync<CreateClubRequest, Club>("CreateClub", request);

    public Task<Partner> CreatePartnerAsync(CreatePartnerRequest request) => CallAsync<CreatePartnerRequest, Partner>("CreatePartner", request);

    public Task<Contract> CreateContractAsync(CreateContractRequest request) => CallAsync<CreateContractRequest, Contract>("CreateContract", request);

    public Task<Offer> CreateOfferAsync(CreateOfferRequest request) => CallAsync<CreateOfferRequest, Offer>("CreateOffer", request);

    /// <summary>Calls an rpc by name.</summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(string rpc, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var method = new Method<TRequest, TResponse>(AdminService.Descriptor.FindMethodByName(rpc)
            ?? throw new ArgumentException($"AdminService has no rpc {rpc}.", nameof(rpc)));
        var headers = new Metadata();
        if (accessToken is not null)
        {
            headers.Add("authorization", "Bearer " + accessToken);
        }

        using var call = channel.UnaryCall(method, request, new CallOptions(headers));
        return await call.ResponseAsync.DefaultTimeout();
    }

    /// <summary>Calls an rpc that must fail, and returns the status it failed with.</summary>
    public async Task<Status> FailsAsync<TRequest, TResponse>(string rpc, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var exception = await Assert.ThrowsAsync<RpcException>(() => CallAsync<TRequest, TResponse>(rpc, request));
        return exception.Status;
    }
}
