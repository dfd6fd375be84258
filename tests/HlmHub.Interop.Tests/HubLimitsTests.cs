using Grpc.Core;
using Grpc.Health.V1;
using HlmHub.Contracts.V1;
using HlmHub.Interop.Tests.Infrastructure;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>The hub's documented limits and choices, seen from a client: response compression, the bound on anonymous calls, the message and connection limits.</summary>
public sealed class HubLimitsTests(HubServerFixture fixture) : IClassFixture<HubServerFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ResponseCompression_IsGzipExactlyWhenTheClientAcceptsIt(bool acceptsGzip)
    {
        using var raw = new RawGrpc(fixture.Hub.Address, fixture.AdminToken);
        var headers = acceptsGzip ? RawGrpc.Headers(("grpc-accept-encoding", "identity,gzip")) : RawGrpc.Headers(("grpc-accept-encoding", "identity"));

        var response = await raw.SendAsync(new RawRequest(RawBadInputTests.EmptyCallPath, RawGrpc.Frame([]), headers));

        Assert.True(response.GrpcStatus == StatusCode.OK, response.Describe());
        var (flag, payload) = Assert.Single(response.Messages());
        Assert.Equal(acceptsGzip ? 1 : 0, flag);
        ListLandlordsResponse.Parser.ParseFrom(acceptsGzip ? RawGrpc.Gunzip(payload) : payload);
    }

    [Fact]
    public async Task AnonymousWatchStreams_AreBoundedPerAddress_WithoutStarvingTheHealthProbes()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(database, "--Hub:MaxAnonymousCallsPerAddress=2");
        var health = new Health.HealthClient(hub.Channel);
        using var stop = new CancellationTokenSource();

        using var first = health.Watch(new HealthCheckRequest(), cancellationToken: stop.Token);
        using var second = health.Watch(new HealthCheckRequest(), cancellationToken: stop.Token);
        Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        Assert.True(await second.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        using var third = health.Watch(new HealthCheckRequest());
        var refused = await Assert.ThrowsAsync<RpcException>(() => third.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        // The probes are counted apart: an orchestrator's probe from the same address is still answered.
        var check = await health.CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();
        using var http = new HttpClient { BaseAddress = hub.HttpAddress };
        using var live = await http.GetAsync("/health/live").DefaultTimeout();
        using var ready = await http.GetAsync("/health/ready").DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, check.Status);
        Assert.Equal((System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK), (live.StatusCode, ready.StatusCode));
        // Authenticated calls are not counted against the anonymous bound.
        var (clientId, secret) = hub.BootstrapAdmin();
        await hub.Admin(await hub.GetTokenAsync(clientId, secret)).CallAsync((client, options) => client.ListLandlordsAsync(new ListLandlordsRequest(), options));

        // Closing a stream frees its place.
        await stop.CancelAsync();
        await WaitUntilServedAsync(health);
    }

    [Fact]
    public async Task ResponseOverTheMessageLimit_IsResourceExhaustedNotSent()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        // The smallest message size the hub accepts (16 KiB), with the limits of the replies that must fit it lowered.
        await using var hub = await HubHost.StartAsync(
            database,
            "--Hub:MaxMessageSizeBytes=16384",
            "--Statements:MaxLines=1",
            "--Statements:MaxEventIds=1",
            "--Reconciliation:MaxDiscrepanciesInReport=1",
            "--Roster:MaxProblemsReported=1",
            "--Roster:MemberTokensPageSize=1");
        var (clientId, secret) = hub.BootstrapAdmin();
        var admin = hub.Admin(await hub.GetTokenAsync(clientId, secret));
        // 80 landlords whose names are at their longest (200 characters): a page of them is well over 16 KiB.
        for (var i = 0; i < 80; i++)
        {
            var landlord = SampleData.Landlord();
            landlord.Name = new string('n', HlmHub.Domain.Limits.NameMaxLength);
            await admin.CreateLandlordAsync(landlord);
        }

        var small = await admin.CallAsync((client, options) => client.ListLandlordsAsync(new ListLandlordsRequest { PageSize = 2 }, options));
        var tooLarge = await admin.FailsAsync((client, options) => client.ListLandlordsAsync(new ListLandlordsRequest { PageSize = 80 }, options));

        Assert.Equal(2, small.Landlords.Count);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
    }

    [Fact]
    public async Task ConnectionsOverTheLimit_AreClosedUntilOthersClose()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(database, "--Hub:MaxConcurrentConnections=2");
        var held = new List<System.Net.Sockets.TcpClient>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var connection = new System.Net.Sockets.TcpClient();
                await connection.ConnectAsync(hub.Address.Host, hub.Address.Port).DefaultTimeout();
                held.Add(connection);
                // Counted by Kestrel before the third arrives: a fixed pause was a guess a loaded machine could miss.
                await ServerSettingsReceivedAsync(connection);
            }

            using (var refusedChannel = Grpc.Net.Client.GrpcChannel.ForAddress(hub.Address))
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() =>
                    new Health.HealthClient(refusedChannel).CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout());
                Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            }
        }
        finally
        {
            held.ForEach(connection => connection.Dispose());
        }

        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(hub.Address);
        await WaitUntilServedAsync(new Health.HealthClient(channel));
    }

    // Kestrel answers a request whose header block is over Hub:MaxRequestHeadersTotalSizeBytes (16 KiB) with HTTP 431 on
    // that stream. grpc-dotnet never sends such a request: it honours the limit the hub advertises
    // (SETTINGS_MAX_HEADER_LIST_SIZE) and fails the call itself (INTERNAL, "The HTTP request headers length exceeded the
    // server limit of 16384 bytes"). curl sends it, so the hub's side shows. (Each request on a connection of its own:
    // curl 7.88 cannot reuse a connection for gRPC requests with --next, whatever their size.)
    [Fact]
    public async Task MetadataOverTheHeaderLimit_IsRefused431_AndMetadataWithinItIsServed()
    {
        var check = new Uri(fixture.Hub.Address, "/grpc.health.v1.Health/Check").ToString();
        async Task<string> StatusWithPaddingAsync(int paddingBytes)
        {
            var result = await PeerProcess.RunAsync(Peers.RequireCurl(),
            [
                "--http2-prior-knowledge", "-sS", "-o", "/dev/null", "-w", "status %{http_code}\n", "-X", "POST",
                "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "x-padding: " + new string('p', paddingBytes),
                "--data-binary", "", check,
            ], AppContext.BaseDirectory, RawGrpc.CallTimeout);
            var status = result.Output.Split('\n').FirstOrDefault(line => line.StartsWith("status ", StringComparison.Ordinal));
            Assert.True(result.ExitCode == 0 && status is not null, $"curl exited with {result.ExitCode}: {result.Output[..Math.Min(result.Output.Length, 300)]}");
            return status!;
        }

        Assert.Equal("status 431", await StatusWithPaddingAsync(20 * 1024));
        Assert.Equal("status 200", await StatusWithPaddingAsync(8 * 1024));
    }

    // A connection over the limit, as the client sees it: refused (UNAVAILABLE, RESOURCE_EXHAUSTED), or accepted and
    // then closed before the HTTP/2 handshake completes when Kestrel still counts a connection the test just closed
    // (INTERNAL from Grpc.Net.Client, with the HttpRequestException saying so). Seen once in a CI run.
    private static bool IsRefusedConnection(RpcException exception) =>
        exception.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable
        || (exception.StatusCode == StatusCode.Internal && exception.Status.DebugException is System.Net.Http.HttpRequestException);

    // The client's HTTP/2 preface and an empty SETTINGS frame, then the first 9 bytes (a frame header) the hub sends:
    // Kestrel sends its SETTINGS only on a connection it accepted under the limit, and closes one over it.
    private static async Task ServerSettingsReceivedAsync(System.Net.Sockets.TcpClient connection)
    {
        var stream = connection.GetStream();
        byte[] preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];
        await stream.WriteAsync(preface).AsTask().DefaultTimeout();
        var header = new byte[9];
        await stream.ReadExactlyAsync(header).AsTask().DefaultTimeout();
        Assert.Equal(4, header[3]);
    }

    private static async Task WaitUntilServedAsync(Health.HealthClient health)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await health.CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
                return;
            }
            catch (RpcException exception) when (IsRefusedConnection(exception) && attempt < 50)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }
    }
}
