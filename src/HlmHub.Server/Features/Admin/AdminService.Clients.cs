using Grpc.Core;
using HlmHub.Identity;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// OAuth clients of the embedded issuer. Only hub administrators manage them: a client is a credential to the
/// whole hub, and a club administrator could otherwise mint itself a partner identity.
/// </summary>
internal sealed partial class AdminService
{
    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.RegisteredClient> RegisterClient(V1.RegisterClientRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var kind = AdminMapping.ToDomain(request.Kind);
        var registration = new ClientRegistration(
            kind,
            request.DisplayName,
            [.. request.Scopes],
            PartnerId: AdminMapping.NullIfEmpty(request.PartnerId),
            LandlordId: AdminMapping.NullIfEmpty(request.LandlordId),
            ClubId: AdminMapping.NullIfEmpty(request.ClubId),
            PublicJwk: AdminMapping.NullIfEmpty(request.PublicJwk),
            ClientId: AdminMapping.NullIfEmpty(request.ClientId));
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);

        // A token bound to a partner, landlord or club that does not exist would pass every ownership check for
        // data that may be created later under that id: refuse the binding now.
        if (registration.PartnerId is { } partnerId)
        {
            await RequirePartnerAsync(db, "partner_id", partnerId, cancellationToken);
        }

        if (registration.LandlordId is { } landlordId)
        {
            await RequireLandlordAsync(db, "landlord_id", landlordId, cancellationToken);
        }

        if (registration.ClubId is { } clubId)
        {
            await RequireClubAsync(db, "club_id", clubId, cancellationToken);
        }

        var registered = await clientRegistry.RegisterAsync(registration, cancellationToken);
        var client = await clientRegistry.FindAsync(registered.ClientId, cancellationToken)
            ?? throw new InvalidOperationException("A client just registered cannot be found.");
        return new V1.RegisteredClient { Client = AdminMapping.ToProto(client), ClientSecret = registered.ClientSecret ?? "" };
    }

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.ListClientsResponse> ListClients(V1.ListClientsRequest request, ServerCallContext context)
    {
        var page = AdminPaging.Read(request.PageSize, request.PageToken);
        var clients = await clientRegistry.ListAsync(page.Offset, page.FetchCount, context.CancellationToken);
        var response = new V1.ListClientsResponse { NextPageToken = AdminPaging.NextToken(page, clients.Count) };
        response.Clients.AddRange(clients.Take(page.Size).Select(AdminMapping.ToProto));
        return response;
    }

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.OAuthClient> DisableClient(V1.DisableClientRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        AdminMapping.LookupId("client_id", request.ClientId);
        if (request.ClientId == caller.ClientId)
        {
            // Disabling oneself could leave the hub with no administrator able to register another.
            throw new HlmHub.Domain.DomainException(HlmHub.Domain.DomainErrorKind.FailedPrecondition, "client_id", "an administrator cannot disable its own client");
        }

        await clientRegistry.DisableAsync(request.ClientId, cancellationToken);
        var client = await clientRegistry.FindAsync(request.ClientId, cancellationToken)
            ?? throw new InvalidOperationException("A client just disabled cannot be found.");
        AdminLog.Changed(logger, caller.ClientId, "client", client.ClientId, "disabled");
        return AdminMapping.ToProto(client);
    }

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.RegisteredClient> RotateClientSecret(V1.RotateClientSecretRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        AdminMapping.LookupId("client_id", request.ClientId);
        var existing = await clientRegistry.FindAsync(request.ClientId, cancellationToken)
            ?? throw NotFound($"client_id: client '{request.ClientId}' does not exist");
        if (existing.DisabledAt is not null)
        {
            throw new HlmHub.Domain.DomainException(HlmHub.Domain.DomainErrorKind.FailedPrecondition, "client_id", "a disabled client gets no new secret: register a new client");
        }

        if (existing.UsesPublicKey)
        {
            throw new HlmHub.Domain.DomainException(HlmHub.Domain.DomainErrorKind.FailedPrecondition, "client_id", "the client authenticates with a public key (private_key_jwt), not a secret");
        }

        var secret = await clientRegistry.RotateSecretAsync(request.ClientId, cancellationToken);
        AdminLog.Changed(logger, caller.ClientId, "client", existing.ClientId, "secret rotated");
        // A demo client's secret is also kept in the hub's demo-clients.json, which `hlmhub demo seed` hands back: the
        // new one replaces the dead one there (or one lost with the file). The rotation is done: the caller going away
        // must not leave the old secret in the file.
        await demoSeeder.KeepRotatedSecretAsync(existing.ClientId, secret, CancellationToken.None);
        return new V1.RegisteredClient { Client = AdminMapping.ToProto(existing), ClientSecret = secret };
    }
}
