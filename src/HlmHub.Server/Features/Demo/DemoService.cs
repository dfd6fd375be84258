using Grpc.Core;
using HlmHub.Identity;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Demo;

/// <summary>
/// <c>hlmhub.v1.DemoService</c> (protos/hlmhub/v1/demo.proto): the CLI's <c>hlmhub demo seed</c>. Runs the same
/// idempotent <see cref="DemoSeeder"/> as <c>--seed-demo</c> and hands back the demo clients' credentials, which is
/// why only a hub administrator may call it.
/// </summary>
internal sealed partial class DemoService(DemoSeeder seeder, IEmbeddedIssuerAddress issuer, ILogger<DemoService> logger) : V1.DemoService.DemoServiceBase
{
    /// <summary>The scope the rpc requires.</summary>
    public const string Scope = "hlmhub.admin";

    [RpcPolicy(Scope, CallerKind.HubAdmin, Ownership.None)]
    public override async Task<V1.SeedDemoResponse> SeedDemo(V1.SeedDemoRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        // The seeder runs one seed at a time.
        var result = await seeder.SeedAsync(issuer.TryGetTokenEndpoint(out var tokenEndpoint) ? tokenEndpoint : null, cancellationToken);
        LogSeedRequested(logger, context.GetCaller().ClientId, result.RecordsAdded, result.ClientsRegistered);
        var response = new V1.SeedDemoResponse
        {
            RecordsAdded = result.RecordsAdded,
            ClientsRegistered = result.ClientsRegistered,
            TokenEndpoint = result.TokenEndpoint ?? "",
            ClubId = DemoData.ClubId,
        };
        response.Clients.AddRange(result.Credentials.Select(client => new V1.DemoClientCredentials
        {
            Role = client.Role,
            ClientId = client.ClientId,
            ClientSecret = client.ClientSecret,
            Scope = client.Scope,
            PartnerId = client.PartnerId ?? "",
            LandlordId = client.LandlordId ?? "",
            ClubId = client.ClubId ?? "",
        }));
        response.LostClientIds.AddRange(result.LostClientIds);
        return response;
    }

    [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "Hub administrator {ClientId} seeded the demo: {RecordsAdded} records and {ClientsRegistered} clients added.")]
    private static partial void LogSeedRequested(ILogger logger, string clientId, int recordsAdded, int clientsRegistered);
}
