using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Observability;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// What the hub exports over OTLP (<c>Telemetry:OtlpEndpoint</c>, <c>http/protobuf</c>) to a stand-in collector, read
/// from the protobuf the collector receives: the real hub on SQLite, the real OpenTelemetry SDK and exporter.
/// </summary>
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
