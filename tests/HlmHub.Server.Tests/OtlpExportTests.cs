using System.Net;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Observability;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// Runs alone. The OpenTelemetry SDK listens to every meter named HlmHub in the process, so the in-process hubs of tests
/// running beside these exported through their collector (a failed CI run's collector held roster, redemption and
/// eligibility metrics these tests never caused), and their instruments of the same names share the SDK's metric
/// streams with this hub's: in that run, this hub's recorded reconciliation run was never exported. Alone, the
/// collector sees this hub only.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OtlpExportAloneCollection
{
    public const string Name = "OTLP export alone";
}

/// <summary>
/// What the hub exports over OTLP (<c>Telemetry:OtlpEndpoint</c>, <c>http/protobuf</c>) to a stand-in collector, read
/// from the protobuf the collector receives: the real hub on SQLite, the real OpenTelemetry SDK and exporter.
/// </summary>
[Collection(OtlpExportAloneCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task ReconciliationRunDuration_IsExportedWithBucketsForSeconds_NotTheSdkDefaultsForMilliseconds()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        var hub = await HubHost.StartAsync(database, OtlpArguments(collector));
        await using (hub)
        {
            var admin = await hub.HubAdminAsync();
            var world = await RedemptionWorld.CreateAsync(hub, admin);

            await RunReconciliationAsync(hub, world.ClubId);
            var exported = await ExportedAsync(collector, "hlmhub.reconciliation.run.duration");

            Assert.Equal("s", exported.Unit);
            // The SDK's default bounds (0, 5, 10, 25 ... 10000) are meant for milliseconds: in seconds, every run
            // shorter than 5 s would fall in the first bucket and no percentile could be read from it.
            Assert.True(exported.HistogramBounds.Count > 0 && exported.HistogramBounds[0] < 0.1 && exported.HistogramBounds.Contains(1),
                "bounds: " + string.Join(", ", exported.HistogramBounds));
        }
    }

    [Fact]
    public async Task TracesMetricsAndLogsExported_CarryNoClientSecret_AccessToken_MemberToken_NorHouseholdReference()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        // The production log levels (appsettings.json), not the tests' quieter ones.
        var hub = await HubHost.StartAsync(database, [.. OtlpArguments(collector), "--Logging:LogLevel:Default=Information"]);
        await using (hub)
        {
            var admin = await hub.HubAdminAsync();
            var world = await RedemptionWorld.CreateAsync(hub, admin);
            var memberToken = await world.AddMemberAsync();
            var partner = await world.RegisterClientAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
            var landlord = await world.RegisterClientAsync(ClientKind.Landlord, world.LandlordId, "hlmhub.roster");
            using var http = new HttpClient { BaseAddress = hub.HttpAddress };

            // A secret where it belongs (the form), in a query string, and as the client id of a failed request.
            using var posted = await http.PostAsync("/connect/token?client_secret=" + partner.ClientSecret, new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"), new("client_id", partner.Client.ClientId), new("client_secret", partner.ClientSecret),
            ])).DefaultTimeout();
            using var swapped = await hub.RequestTokenAsync(partner.ClientSecret, partner.Client.ClientId);
            var accessToken = await hub.GetTokenAsync(partner.Client.ClientId, partner.ClientSecret);
            var landlordToken = await hub.GetTokenAsync(landlord.Client.ClientId, landlord.ClientSecret);
            // A redemption over JSON and over gRPC, each naming the member; one with a token that is not valid.
            using var json = new HttpRequestMessage(HttpMethod.Post, "/v1/redemptions?member=" + memberToken)
            {
                Content = JsonContent(world.Event(memberToken, 1_000, 100)),
            };
            json.Headers.Authorization = new("Bearer", accessToken);
            using var jsonAnswer = await http.SendAsync(json).DefaultTimeout();
            var acks = await world.StreamAsync([world.Event(memberToken, 2_000, 200)]);
            await world.FailsAsync(accessToken + "x");
            // A roster change naming a household by the landlord's own reference.
            const string reference = "REF-NEVER-EXPORTED-7731";
            await RosterCalls.SyncAsync(new RosterService.RosterServiceClient(hub.Channel), landlordToken, Guid.NewGuid().ToString(), SessionKind.Delta,
                [[RosterCalls.Item(1, reference)]]);

            Assert.Equal(
                (HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.OK, RedemptionOutcome.Accepted),
                (posted.StatusCode, swapped.StatusCode, jsonAnswer.StatusCode, Assert.Single(acks).Outcome));
            await Poll.UntilAsync(
                () => collector.Posts.Contains("/v1/traces") && collector.Posts.Contains("/v1/logs")
                    && collector.BodiesOf("/v1/metrics").SelectMany(OtlpMetrics.Read).Any(metric => metric.Name == "hlmhub.roster.changes"),
                "for the collector to receive traces, logs and the roster metric");
            // What was sent last must have been exported too: wait for one more round of each signal.
            var received = collector.Bodies.Count;
            await Poll.UntilAsync(() => collector.Bodies.Count >= received + 3, "for another export round");

            var secrets = new Dictionary<string, string>
            {
                ["client secret"] = partner.ClientSecret,
                ["access token"] = accessToken,
                ["access token's signature"] = accessToken[(accessToken.LastIndexOf('.') + 1)..],
                ["member token"] = memberToken,
                ["household reference"] = reference,
            };
            var leaks = (from body in collector.Bodies
                         from secret in secrets
                         where body.Body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret.Value)) >= 0
                         select $"{secret.Key} in {body.Path}").Distinct().ToList();
            Assert.True(leaks.Count == 0, string.Join("\n", leaks));
        }
    }

    private static StringContent JsonContent(RedemptionEvent item) =>
        new(Google.Protobuf.JsonFormatter.Default.Format(item), System.Text.Encoding.UTF8, "application/json");

    internal static string[] OtlpArguments(OtlpCollector collector) =>
    [
        "--Telemetry:OtlpEndpoint=" + collector.Address,
        "--Telemetry:OtlpProtocol=http/protobuf",
        // The SDK reads its standard settings from the host's configuration too: export often, for the test.
        "--OTEL_METRIC_EXPORT_INTERVAL=300",
        "--OTEL_BSP_SCHEDULE_DELAY=200",
        "--OTEL_BLRP_SCHEDULE_DELAY=200",
    ];

    private static async Task RunReconciliationAsync(HubHost hub, string clubId)
    {
        var (clientId, secret) = hub.BootstrapAdmin();
        var token = await hub.GetTokenAsync(clientId, secret);
        var client = new AdminService.AdminServiceClient(hub.Channel);
        var period = Domain.Period.Of(TimeProvider.System.GetUtcNow()).Previous().ToString();
        using var call = client.RunReconciliation(
            new RunReconciliationRequest { ClubId = clubId, Period = period },
            new Metadata { { "authorization", "Bearer " + token } },
            deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default));
        RunReconciliationUpdate? last = null;
        await foreach (var update in call.ResponseStream.ReadAllAsync())
        {
            last = update;
        }

        Assert.Equal(RunReconciliationUpdate.UpdateOneofCase.Report, last?.UpdateCase);
    }

    private static async Task<OtlpMetric> ExportedAsync(OtlpCollector collector, string name)
    {
        OtlpMetric? Find() => collector.BodiesOf("/v1/metrics").SelectMany(OtlpMetrics.Read).LastOrDefault(metric => metric.Name == name);
        await Poll.UntilAsync(() => Find() is not null, $"for the collector to receive {name}",
            details: () => string.Join(", ", collector.BodiesOf("/v1/metrics").SelectMany(OtlpMetrics.Read).Select(metric => metric.Name).Distinct()));
        return Find()!;
    }
}
