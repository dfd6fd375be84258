using System.Net;
using HlmHub.Server.Tests.Infrastructure;
using Npgsql;

namespace HlmHub.Server.Tests;

/// <summary>
/// <c>Hub:HealthCheckTimeout</c> (docs/transport.md): a database that stops answering without closing its connections
/// (a hung server, a network cut without a reset) makes readiness answer 503 instead of hanging, so a load balancer
/// takes the instance out; once the database answers again, readiness says so. The hub runs as a process, as operators
/// run it: it logs the unhealthy database as an error, which the in-process test host would count as a failure.
/// </summary>
public sealed class HealthCheckTimeoutTests
{
    [Fact]
    public async Task DatabaseThatStopsAnswering_MakesReadinessAnswer503_NotHang_AndReadyAgainOnceItAnswers()
    {
        await using var database = await EmptyDatabase.CreateAsync(Storage.StorageProvider.Postgres, TestTimeouts.Token());
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = FreezableTcpProxy.Start(connection.Host!, connection.Port);
        connection.Host = "127.0.0.1";
        connection.Port = proxy.Port;
        await using var hub = HubProcess.Start(new Dictionary<string, string?>(database.Settings)
        {
            ["ConnectionStrings:HlmHub"] = connection.ConnectionString,
            ["Hub:HealthCheckTimeout"] = "00:00:01",
        });
        await hub.WaitStartedAsync();
        // The client's own time-out is generous: the test fails if readiness hangs, it does not time the answer.
        using var http = new HttpClient { BaseAddress = hub.HttpAddress, Timeout = TestTimeouts.Default };
        using (var before = await http.GetAsync("/health/ready"))
        {
            Assert.True(before.StatusCode == HttpStatusCode.OK, await before.Content.ReadAsStringAsync() + "\n" + hub.Output);
        }

        proxy.Freeze();
        using (var frozen = await GetOrExplainAsync(http, hub, "/health/ready"))
        {
            var body = await frozen.Content.ReadAsStringAsync();
            Assert.True(frozen.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("\"database\":\"Unhealthy\"", StringComparison.Ordinal),
                $"{(int)frozen.StatusCode} {body}");
        }

        proxy.Thaw();
        await Poll.UntilAsync(async () =>
        {
            using var after = await http.GetAsync("/health/ready");
            return after.StatusCode == HttpStatusCode.OK;
        }, "for readiness to answer 200 once the database answers again", details: () => hub.Output);
    }

    private static async Task<HttpResponseMessage> GetOrExplainAsync(HttpClient http, HubProcess hub, string path)
    {
        try
        {
            return await http.GetAsync(path);
        }
        catch (TaskCanceledException hung)
        {
            throw new TimeoutException($"GET {path} got no answer within {http.Timeout}:\n{hub.Output}", hung);
        }
    }
}
