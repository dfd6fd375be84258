using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HlmHub.Bench.Redemptions;
using HlmHub.Domain;
using HlmHub.Interop.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Real third-party partner clients redeem on the real hub: Python grpcio and Node grpc-js each get a token from the
/// hub's token endpoint, stream redemptions over real HTTP/2 and check every acknowledgement (accepted with the
/// computed discount, rejections with their reason, a duplicate on resend, an idempotency conflict), then call Redeem;
/// curl posts a redemption as JSON over HTTP/1.1 (JSON transcoding). After each, every redemption the client saw
/// accepted is stored once with its ledger transaction, and the ledger balances.
/// </summary>
public sealed class RedemptionPeerTests(HubServerFixture fixture) : IClassFixture<HubServerFixture>
{
    private const int Households = 20;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task PythonGrpcio_StreamsRedemptionsWithATokenFromTheEndpoint_EveryAckChecked_AndTheLedgerHoldsThem()
    {
        Peers.RequirePython();
        var world = await WorldAsync();

        var result = await RunPeerAsync(Peers.Python, [RepositoryPaths.PythonRedemptionClient, "--api-protos", RepositoryPaths.GoogleApiProtos], world);

        await AssertPassedAndBookedAsync(result, world);
    }

    [Fact]
    public async Task NodeGrpcJs_StreamsRedemptionsWithATokenFromTheEndpoint_EveryAckChecked_AndTheLedgerHoldsThem()
    {
        var node = Peers.RequireNode();
        var world = await WorldAsync();

        var result = await RunPeerAsync(node, [RepositoryPaths.NodeRedemptionClient], world);

        await AssertPassedAndBookedAsync(result, world);
    }

    [Fact]
    public async Task Curl_PostsARedemptionAsJsonOverHttp11_GetsTheAcceptedAnswer_ThenTheDuplicate()
    {
        var curl = Peers.RequireCurl();
        var world = await WorldAsync();
        var token = await fixture.Hub.GetTokenAsync(world.PartnerClientId, world.PartnerClientSecret, PartnerWorld.RedemptionScope);
        var directory = Directory.CreateTempSubdirectory("hlmhub-curl-");
        try
        {
            // The token goes in a header file readable by this user only, not on curl's command line.
            var headers = Path.Combine(directory.FullName, "headers");
            File.WriteAllText(headers, $"authorization: Bearer {token}\ncontent-type: application/json\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(headers, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            var eventId = "curl-" + Guid.NewGuid().ToString("N");
            var body = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["eventId"] = eventId,
                ["offerId"] = world.OfferId,
                ["memberToken"] = world.MemberTokens[0],
                ["occurredAt"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["purchaseCents"] = "2599",
                ["discountCents"] = 259,
            });
            File.WriteAllText(Path.Combine(directory.FullName, "body.json"), body);
            string[] arguments =
            [
                "--silent", "--show-error", "--http1.1", "--max-time", "30", "-X", "POST",
                "-H", "@" + headers, "--data-binary", "@" + Path.Combine(directory.FullName, "body.json"),
                "--write-out", "\nHTTP %{http_version} %{http_code}\n", new Uri(fixture.Hub.HttpAddress, "/v1/redemptions").ToString(),
            ];

            var first = await PeerProcess.RunAsync(curl, arguments, RepositoryPaths.Root, RunTimeout);
            var second = await PeerProcess.RunAsync(curl, arguments, RepositoryPaths.Root, RunTimeout);

            var accepted = JsonAnswer(first);
            var duplicate = JsonAnswer(second);
            Assert.Equal(eventId, accepted.GetProperty("eventId").GetString());
            Assert.Equal("REDEMPTION_OUTCOME_ACCEPTED", accepted.GetProperty("outcome").GetString());
            Assert.Equal(259, Cents(accepted.GetProperty("computedDiscountCents")));
            var redemptionId = accepted.GetProperty("redemptionId").GetString();
            Assert.False(string.IsNullOrEmpty(redemptionId), first.Describe());
            Assert.Equal("REDEMPTION_OUTCOME_DUPLICATE", duplicate.GetProperty("outcome").GetString());
            Assert.Equal("REDEMPTION_OUTCOME_ACCEPTED", duplicate.GetProperty("firstOutcome").GetString());
            Assert.Equal(redemptionId, duplicate.GetProperty("redemptionId").GetString());
            await AssertBookedAsync(world, [(eventId, redemptionId!, 259)]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task<PartnerWorld> WorldAsync() => await PartnerWorld.CreateAsync(
        fixture.Hub.Channel,
        (clientId, secret, scope, _) => fixture.Hub.GetTokenAsync(clientId, secret, scope),
        fixture.AdminToken,
        Households,
        PartnerWorld.TenPercentUncapped(),
        TestTimeouts.Token());

    private Task<PeerResult> RunPeerAsync(string program, IReadOnlyList<string> script, PartnerWorld world) => PeerProcess.RunAsync(
        program,
        [.. script, "--target", $"127.0.0.1:{fixture.Hub.Address.Port}", "--token-url", new Uri(fixture.Hub.HttpAddress, "/connect/token").ToString(), "--proto-root", RepositoryPaths.Protos],
        RepositoryPaths.Root,
        RunTimeout,
        new Dictionary<string, string>
        {
            ["HLMHUB_CLIENT_ID"] = world.PartnerClientId,
            ["HLMHUB_CLIENT_SECRET"] = world.PartnerClientSecret,
            ["HLMHUB_OFFER"] = world.OfferId,
            ["HLMHUB_MEMBERS"] = string.Join(',', world.MemberTokens),
        });

    private async Task AssertPassedAndBookedAsync(PeerResult result, PartnerWorld world)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Count(line => line.StartsWith("PASS ", StringComparison.Ordinal)));
        var accepted = lines.Where(line => line.StartsWith("EVENT ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .Select(parts => (EventId: parts[1], RedemptionId: parts[2], Discount: long.Parse(parts[3], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(51, accepted.Count);
        await AssertBookedAsync(world, accepted);
    }

    /// <summary>
    /// The partner's stored redemptions: exactly the events it saw accepted (each once, with the id and discount of
    /// its acknowledgement) plus its rejections (no ledger postings); and the ledger rules hold across the hub.
    /// </summary>
    private async Task AssertBookedAsync(PartnerWorld world, IReadOnlyList<(string EventId, string RedemptionId, long Discount)> accepted)
    {
        await using var db = await fixture.Hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        var stored = await db.Redemptions.AsNoTracking().Where(redemption => redemption.PartnerId == world.PartnerId).ToListAsync();
        var storedAccepted = stored.Where(redemption => redemption.Outcome == RedemptionOutcome.Accepted)
            .Select(redemption => (redemption.PartnerEventId, redemption.Id, redemption.ComputedDiscount.Cents))
            .Order()
            .ToList();
        Assert.Equal(accepted.Select(ack => (ack.EventId, Guid.Parse(ack.RedemptionId), ack.Discount)).Order().ToList(), storedAccepted);
        Assert.All(stored.Where(redemption => redemption.Outcome != RedemptionOutcome.Accepted), redemption => Assert.NotNull(redemption.RejectionReason));
        Assert.Empty(await RedemptionLedger.ProblemsAsync(db, TestTimeouts.Token()));
    }

    private static JsonElement JsonAnswer(PeerResult result)
    {
        Assert.True(result.ExitCode == 0, result.Describe());
        var lines = result.Output.TrimEnd('\n').Split('\n');
        Assert.True(lines[^1] == "HTTP 1.1 200", result.Describe());
        using var json = JsonDocument.Parse(string.Join('\n', lines[..^1]));
        return json.RootElement.Clone();
    }

    // Protobuf's JSON mapping writes int64 as a string; a number is accepted too.
    private static long Cents(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetInt64();
}
