using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// A real gRPC client (another implementation) runs every interop case against our server: the
/// fixture runs the peer once over all cases; each case is its own test row.
/// </summary>
public abstract class PeerClientFixture : InteropServerFixture
{
    private readonly Lock _lock = new();
    private Task<PeerClientRun>? _run;

    /// <summary>Fails the test with the package to install when the peer is missing.</summary>
    internal abstract void RequirePeer();

    internal abstract Task<PeerClientRun> StartRunAsync(int serverPort, string testCases);

    /// <summary>The cases the peer runs, in order (one process for all of them).</summary>
    internal virtual IReadOnlyList<string> Cases => InteropCases.All;

    internal Task<PeerClientRun> RunAsync()
    {
        RequirePeer();
        lock (_lock)
        {
            return _run ??= StartRunAsync(Server.Port, string.Join(',', Cases));
        }
    }
}

/// <summary>Debian's python3-grpcio client.</summary>
public sealed class GrpcioClientFixture : PeerClientFixture
{
    internal override void RequirePeer() => Peers.RequirePython();

    internal override Task<PeerClientRun> StartRunAsync(int serverPort, string testCases) =>
        PeerClientRun.RunAsync(Peers.Python, [RepositoryPaths.PythonClient, "--server_port", serverPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--test_case", testCases], RepositoryPaths.Root);
}

/// <summary>The @grpc/grpc-js client (npm, versions locked in tests/interop/node/package-lock.json).</summary>
public sealed class GrpcJsClientFixture : PeerClientFixture
{
    /// <summary>Beyond grpc's cases: health and both reflection versions, used the way grpcurl uses them.</summary>
    internal static readonly IReadOnlyList<string> DiscoveryCases = ["health_check", "reflection_v1", "reflection_v1alpha"];

    private string _node = "node";

    internal override IReadOnlyList<string> Cases => [.. InteropCases.All, .. DiscoveryCases];

    internal override void RequirePeer() => _node = Peers.RequireNode();

    internal override Task<PeerClientRun> StartRunAsync(int serverPort, string testCases) =>
        PeerClientRun.RunAsync(_node, [RepositoryPaths.NodeClient, "--server_port", serverPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--test_case", testCases], RepositoryPaths.NodeDirectory);
}

public abstract class PeerClientTests<TFixture>(TFixture fixture)
    where TFixture : PeerClientFixture
{
    private static readonly TimeSpan WaitTimeout = PeerClientRun.RunTimeout + TimeSpan.FromSeconds(30);

    public static TheoryData<string> Cases() => InteropCases.Names();

    protected async Task AssertCasePassesAsync(string testCase)
    {
        var run = await fixture.RunAsync().WaitAsync(WaitTimeout);
        run.AssertPassed(testCase);
    }

    protected async Task AssertExitsZeroWithEveryCaseAsync()
    {
        var run = await fixture.RunAsync().WaitAsync(WaitTimeout);
        Assert.True(run.Result.ExitCode == 0, run.Result.Describe());
        Assert.Equal(fixture.Cases, run.ReportedCases);
    }

    protected async Task AssertServerLoggedNoErrorAsync()
    {
        await fixture.RunAsync().WaitAsync(WaitTimeout);
        var errors = fixture.Logs.Errors;
        Assert.True(errors.Count == 0, "The server logged errors:" + Environment.NewLine + CapturingLoggerProvider.Describe(errors));
    }
}

public sealed class GrpcioClientTests(GrpcioClientFixture fixture) : PeerClientTests<GrpcioClientFixture>(fixture), IClassFixture<GrpcioClientFixture>
{
    [Theory]
    [MemberData(nameof(Cases))]
    public Task GrpcioClient_AgainstOurServer_PassesCase(string testCase) => AssertCasePassesAsync(testCase);

    [Fact]
    public Task GrpcioClient_AgainstOurServer_ExitsZeroWithEveryCaseReported() => AssertExitsZeroWithEveryCaseAsync();

    [Fact]
    public Task GrpcioClient_AgainstOurServer_ServerLogsNoError() => AssertServerLoggedNoErrorAsync();
}

public sealed class GrpcJsClientTests(GrpcJsClientFixture fixture) : PeerClientTests<GrpcJsClientFixture>(fixture), IClassFixture<GrpcJsClientFixture>
{
    [Theory]
    [MemberData(nameof(Cases))]
    public Task GrpcJsClient_AgainstOurServer_PassesCase(string testCase) => AssertCasePassesAsync(testCase);

    public static TheoryData<string> DiscoveryCases() => [.. GrpcJsClientFixture.DiscoveryCases];

    [Theory]
    [MemberData(nameof(DiscoveryCases))]
    public Task GrpcJsClient_AgainstOurServer_UsesHealthAndReflection(string testCase) => AssertCasePassesAsync(testCase);

    [Fact]
    public Task GrpcJsClient_AgainstOurServer_ExitsZeroWithEveryCaseReported() => AssertExitsZeroWithEveryCaseAsync();

    [Fact]
    public Task GrpcJsClient_AgainstOurServer_ServerLogsNoError() => AssertServerLoggedNoErrorAsync();
}
