using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Server.Tests;

/// <summary>
/// The per-caller call rate (<c>Hub:CallsPerSecondPerCaller</c>, <c>Hub:CallBurstPerCaller</c>), over real HTTP/2 and
/// HTTP/1.1 with real tokens, on a hub allowing bursts of <see cref="Burst"/> calls and one more a second.
/// </summary>
public sealed class CallerRateLimitTests
{
    private const int Burst = 30;

    /// <summary>More calls at once than the burst: some must be refused, whatever the bucket regained meanwhile.</summary>
    private const int Flood = 2 * Burst;

    [Fact]
    public async Task ACallerOverItsRate_IsResourceExhaustedWithWhenToRetry_OthersAreServed_AndNothingRefusedIsStored()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(database, "--Hub:CallsPerSecondPerCaller=1", $"--Hub:CallBurstPerCaller={Burst}");
        var admin = await hub.HubAdminAsync();
        var world = await RedemptionWorld.CreateAsync(hub, admin);
        var neighbour = await RedemptionWorld.CreateAsync(hub, admin);
        var member = await world.AddMemberAsync();

        // A stream is one call, whatever it carries: more redemptions than the burst are all accepted.
        var streamed = await world.StreamAsync([.. Enumerable.Range(0, Flood).Select(_ => world.Event(member, 1_000, 100))]);
        var answers = await Task.WhenAll(Enumerable.Range(0, Flood).Select(async _ =>
        {
            using var call = world.Client().RedeemAsync(world.Event(member, 1_000, 100), world.Options());
            try
            {
                return (Ack: (RedemptionAck?)await call.ResponseAsync.DefaultTimeout(), Refusal: (RpcException?)null);
            }
            catch (RpcException refused)
            {
                return (Ack: null, Refusal: refused);
            }
        }));
        // Another partner's calls meanwhile: its own bucket.
        var neighbourAck = await neighbour.RedeemAsync(neighbour.Event(await neighbour.AddMemberAsync(), 1_000, 100));

        Assert.All(streamed, ack => Assert.Equal(RedemptionOutcome.Accepted, ack.Outcome));
        var refusals = answers.Where(answer => answer.Refusal is not null).ToList();
        Assert.NotEmpty(refusals);
        Assert.All(refusals, answer =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, answer.Refusal!.StatusCode);
            Assert.Contains("Hub:CallsPerSecondPerCaller", answer.Refusal.Status.Detail, StringComparison.Ordinal);
            // gRPC's retry pushback: one replenishment period of the bucket.
            Assert.Equal("1000", answer.Refusal.Trailers.GetValue("grpc-retry-pushback-ms"));
        });
        Assert.All(answers.Where(answer => answer.Ack is not null), answer => Assert.Equal(RedemptionOutcome.Accepted, answer.Ack!.Outcome));
        Assert.Equal(RedemptionOutcome.Accepted, neighbourAck.Outcome);
        // Refused calls never reached the handler: the ledger holds the stream's redemptions and the served calls', once each.
        var (booked, _) = await world.LedgerCheckAsync();
        Assert.Equal(Flood + (Flood - refusals.Count), booked);

        // The bucket refills: within a few seconds the same partner is served again.
        var again = await RetryWhileExhaustedAsync(() => world.RedeemAsync(world.Event(member, 1_000, 100)));
        Assert.Equal(RedemptionOutcome.Accepted, again.Outcome);
    }

    [Fact]
    public async Task ACallerOverItsRate_OverHttpJson_Gets429WithRetryAfterAndTheJsonError()
    {
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        await using var hub = await HubHost.StartAsync(database, "--Hub:CallsPerSecondPerCaller=1", $"--Hub:CallBurstPerCaller={Burst}");
        var world = await RedemptionWorld.CreateAsync(hub, await hub.HubAdminAsync());
        var member = await world.AddMemberAsync();
        var token = await world.TokenAsync(ClientKind.Partner, world.PartnerId, "hlmhub.redemptions");
        using var http = new HttpClient { BaseAddress = hub.HttpAddress, Timeout = TestTimeouts.Default };

        var answers = await Task.WhenAll(Enumerable.Range(0, Flood).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/redemptions")
            {
                Content = new StringContent(JsonBody(world, member), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Body: await response.Content.ReadAsStringAsync());
        }));

        var refused = answers.Where(answer => answer.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.All(answers, answer => Assert.Contains(answer.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        Assert.All(refused, answer =>
        {
            Assert.Equal(TimeSpan.FromSeconds(1), answer.RetryAfter);
            using var error = JsonDocument.Parse(answer.Body);
            Assert.Equal((int)StatusCode.ResourceExhausted, error.RootElement.GetProperty("code").GetInt32());
            Assert.Contains("Hub:CallsPerSecondPerCaller", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        });
    }

    private static string JsonBody(RedemptionWorld world, string member)
    {
        var item = world.Event(member, 1_000, 100);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["eventId"] = item.EventId,
            ["offerId"] = item.OfferId,
            ["memberToken"] = item.MemberToken,
            ["occurredAt"] = item.OccurredAt.ToDateTimeOffset().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["purchaseCents"] = "1000",
            ["discountCents"] = 100,
        });
    }

    private static async Task<T> RetryWhileExhaustedAsync<T>(Func<Task<T>> call)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException refused) when (refused.StatusCode == StatusCode.ResourceExhausted && !timeout.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
            }
        }
    }
}
