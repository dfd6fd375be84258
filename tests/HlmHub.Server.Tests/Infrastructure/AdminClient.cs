using Grpc.Core;
using HlmHub.Contracts.V1;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>Calls hlmhub.v1.AdminService through its generated grpc-dotnet client, with a bearer token when given one.</summary>
internal sealed class AdminClient(AdminService.AdminServiceClient client, string? accessToken)
{
    public Task<Landlord> CreateLandlordAsync(CreateLandlordRequest request) => CallAsync((admin, options) => admin.CreateLandlordAsync(request, options));

    public Task<Club> CreateClubAsync(CreateClubRequest request) => CallAsync((admin, options) => admin.CreateClubAsync(request, options));

    public Task<Partner> CreatePartnerAsync(CreatePartnerRequest request) => CallAsync((admin, options) => admin.CreatePartnerAsync(request, options));

    public Task<Contract> CreateContractAsync(CreateContractRequest request) => CallAsync((admin, options) => admin.CreateContractAsync(request, options));

    public Task<Offer> CreateOfferAsync(CreateOfferRequest request) => CallAsync((admin, options) => admin.CreateOfferAsync(request, options));

    /// <summary>Registers an administrator client of one club (scope hlmhub.admin); its secret is in the response.</summary>
    public Task<RegisteredClient> RegisterClubAdminAsync(string clubId) => CallAsync((admin, options) => admin.RegisterClientAsync(new RegisterClientRequest
    {
        Kind = ClientKind.Admin,
        DisplayName = "Club admin",
        ClubId = clubId,
        Scopes = { "hlmhub.admin" },
    }, options));

    /// <summary>Makes one call with this client's token and the default test timeout as deadline.</summary>
    public async Task<TResponse> CallAsync<TResponse>(Func<AdminService.AdminServiceClient, CallOptions, AsyncUnaryCall<TResponse>> call)
    {
        using var pending = call(client, Options());
        return await pending.ResponseAsync.DefaultTimeout();
    }

    /// <summary>Makes a call that must fail, and returns the status it failed with.</summary>
    public async Task<Status> FailsAsync<TResponse>(Func<AdminService.AdminServiceClient, CallOptions, AsyncUnaryCall<TResponse>> call)
    {
        var exception = await Assert.ThrowsAsync<RpcException>(() => CallAsync(call));
        return exception.Status;
    }

    private CallOptions Options()
    {
        var headers = new Metadata();
        if (accessToken is not null)
        {
            headers.Add("authorization", "Bearer " + accessToken);
        }

        return new CallOptions(headers, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));
    }
}
