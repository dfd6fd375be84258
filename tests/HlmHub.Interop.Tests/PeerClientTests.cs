using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Python grpcio and Node grpc-js, each generating its stubs from protos/hlmhub at run time, call the hub's Admin
/// API with a hub administrator's token obtained from the token endpoint over HTTP/1.1: they create and list a
/// landlord, get ALREADY_EXISTS for a duplicate and UNAUTHENTICATED without a token.
/// </summary>
public sealed class PeerClientTests(HubServerFixture fixture) : IClassFixture<HubServerFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task PythonGrpcio_CallsTheAdminApiWithAToken()
    {
        Peers.RequirePython();

        var result = await RunAsync(Peers.Python, [RepositoryPaths.PythonClient]);

        AssertAllPassed(result);
    }

    [Fact]
    public async Task NodeGrpcJs_CallsTheAdminApiWithAToken()
    {
        var node = Peers.RequireNode();

        var result = await RunAsync(node, [RepositoryPaths.NodeClient]);

        AssertAllPassed(result);
    }

    private Task<PeerResult> RunAsync(string program, IReadOnlyList<string> script) => PeerProcess.RunAsync(
        program,
        [.. script, "--target", $"127.0.0.1:{fixture.Hub.Address.Port}", "--proto-root", RepositoryPaths.Protos],
        RepositoryPaths.Root,
        RunTimeout,
        new Dictionary<string, string> { ["HLMHUB_TOKEN"] = fixture.AdminToken });

    private static void AssertAllPassed(PeerResult result)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Count(line => line.StartsWith("PASS ", StringComparison.Ordinal)));
    }
}
