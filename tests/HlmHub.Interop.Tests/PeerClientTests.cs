using HlmHub.Contracts.V1;
using HlmHub.Interop.Tests.Infrastructure;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Python grpcio and Node grpc-js, each generating its stubs from protos/hlmhub at run time, call the hub's Admin
/// API with a hub administrator's token obtained from the token endpoint over HTTP/1.1: they create and list a
/// landlord, get ALREADY_EXISTS for a duplicate and UNAUTHENTICATED without a token (and grpc-js, with a bad token,
/// reads the hub's message as written).
/// </summary>
public sealed class PeerClientTests(HubServerFixture fixture) : IClassFixture<HubServerFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task PythonGrpcio_CallsTheAdminApiWithAToken()
    {
        Peers.RequirePython();

        var result = await RunAsync(Peers.Python, [RepositoryPaths.PythonClient]);

        AssertAllPassed(result, 4);
    }

    [Fact]
    public async Task PythonGrpcio_LandlordSyncsItsRosterWithItsOwnToken()
    {
        Peers.RequirePython();
        var admin = fixture.Hub.Admin(fixture.AdminToken);
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var club = await admin.CreateClubAsync(SampleData.Club(landlord.Id));
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Python roster sync",
            LandlordId = landlord.Id,
            Scopes = { "hlmhub.roster" },
        }, options));
        var token = await fixture.Hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);

        var result = await PeerProcess.RunAsync(
            Peers.Python,
            [RepositoryPaths.PythonRosterClient, "--target", $"127.0.0.1:{fixture.Hub.Address.Port}", "--proto-root", RepositoryPaths.Protos],
            RepositoryPaths.Root,
            RunTimeout,
            new Dictionary<string, string> { ["HLMHUB_TOKEN"] = token, ["HLMHUB_CLUB"] = club.Id });

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(6, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => line.StartsWith("PASS ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NodeGrpcJs_CallsTheAdminApiWithAToken()
    {
        var node = Peers.RequireNode();

        var result = await RunAsync(node, [RepositoryPaths.NodeClient]);

        AssertAllPassed(result, 5);
    }

    private Task<PeerResult> RunAsync(string program, IReadOnlyList<string> script) => PeerProcess.RunAsync(
        program,
        [.. script, "--target", $"127.0.0.1:{fixture.Hub.Address.Port}", "--proto-root", RepositoryPaths.Protos],
        RepositoryPaths.Root,
        RunTimeout,
        new Dictionary<string, string> { ["HLMHUB_TOKEN"] = fixture.AdminToken });

    private static void AssertAllPassed(PeerResult result, int checks)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(checks, lines.Count(line => line.StartsWith("PASS ", StringComparison.Ordinal)));
    }
}
