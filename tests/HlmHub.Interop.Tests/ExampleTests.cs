using HlmHub.Domain;
using HlmHub.Interop.Tests.Infrastructure;
using HlmHub.Server.Features.Demo;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Every program under examples/ runs as a real process, as examples/README.md says to run it, against a real hub
/// started with the demo seeded; the assertions are on what the person running it sees (exit code, printed lines)
/// and, for redemptions, on what the hub stored.
/// </summary>
public sealed class ExampleTests(DemoHubFixture fixture) : IClassFixture<DemoHubFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    private const string StartHint = "start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`";

    [Fact]
    public async Task PythonPartner_StreamsRedemptions_ResendsTheUnacknowledgedAsDuplicatesOrFirstTimeAccepts()
    {
        Peers.RequirePython();
        var runId = NewRunId();
        var sameEvents = new Dictionary<string, string> { ["HLMHUB_RUN_ID"] = runId, ["HLMHUB_OCCURRED_AT"] = TheNextSecond() };

        var first = await RunPythonAsync("partner_redemptions.py", sameEvents);
        var again = await RunPythonAsync("partner_redemptions.py", sameEvents);

        await AssertPartnerRunAsync(first, again, runId);
    }

    [Fact]
    public async Task NodePartner_StreamsRedemptions_ResendsTheUnacknowledgedAsDuplicatesOrFirstTimeAccepts()
    {
        var node = Peers.RequireNode(RepositoryPaths.ExamplesNodeDirectory);
        var runId = NewRunId();
        var sameEvents = new Dictionary<string, string> { ["HLMHUB_RUN_ID"] = runId, ["HLMHUB_OCCURRED_AT"] = TheNextSecond() };

        var first = await RunAsync(node, [Path.Combine(RepositoryPaths.ExamplesNodeDirectory, "partner_redemptions.js")], sameEvents);
        var again = await RunAsync(node, [Path.Combine(RepositoryPaths.ExamplesNodeDirectory, "partner_redemptions.js")], sameEvents);

        await AssertPartnerRunAsync(first, again, runId);
    }

    [Fact]
    public async Task PythonLandlord_SyncsThreeHouseholds_ListsTheirTokens_AndASecondRunChangesNothing()
    {
        Peers.RequirePython();

        var first = await RunPythonAsync("landlord_roster_sync.py");
        var again = await RunPythonAsync("landlord_roster_sync.py");

        Assert.True(first.ExitCode == 0, first.Describe());
        Assert.Contains("roster synced: created=3 updated=0 unchanged=0 stale=0 rejected=0 completed=True", first.Output, StringComparison.Ordinal);
        var members = Lines(first).Where(line => line.StartsWith("member EXAMPLE-", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, members.Count);
        Assert.All(members, line => Assert.EndsWith(" active", line, StringComparison.Ordinal));
        Assert.Contains($"member tokens: {DemoData.HostHouseholds + 3} households in all, 3 of the 3 sent here", first.Output, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.Describe());
        Assert.Contains("roster synced: created=0 updated=0 unchanged=3", again.Output, StringComparison.Ordinal);
        Assert.Equal(members, Lines(again).Where(line => line.StartsWith("member EXAMPLE-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Curl_RedeemsAsJsonOverHttp1_AndTheSameEventAgainIsADuplicate()
    {
        var curl = RequireCurl();
        var eventId = "curl-" + NewRunId();
        // The same event twice: same id, same payload (occurred_at included).
        var environment = new Dictionary<string, string>
        {
            ["MEMBER_TOKEN"] = DemoMemberToken(1),
            ["EVENT_ID"] = eventId,
            ["OCCURRED_AT"] = TheNextSecond(),
        };

        var first = await RunAsync("/bin/bash", [RedeemScript], environment);
        var again = await RunAsync("/bin/bash", [RedeemScript], environment);

        Assert.True(first.ExitCode == 0, first.Describe() + $"\n(curl at {curl})");
        Assert.Contains("HTTP 200 ", first.Output, StringComparison.Ordinal);
        Assert.Contains("\"REDEMPTION_OUTCOME_ACCEPTED\"", first.Output, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.Describe());
        Assert.Contains("\"REDEMPTION_OUTCOME_DUPLICATE\"", again.Output, StringComparison.Ordinal);
        Assert.Equal(1, await StoredRedemptionsAsync(eventId));
    }

    [Fact]
    public async Task FirstError_HubNotRunning_PythonPrintsOneLineSayingHowToStartIt()
    {
        Peers.RequirePython();
        var closed = ClosedLoopbackUrl();

        var result = await RunPythonAsync("partner_redemptions.py", new() { ["HLMHUB_HTTP_URL"] = closed });

        Assert.True(result.ExitCode == 1, result.Describe());
        var line = Assert.Single(Lines(result));
        Assert.StartsWith($"error: hub not reachable at {closed} (", line, StringComparison.Ordinal);
        Assert.EndsWith(StartHint, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstError_WrongSecret_NodePrintsOneLineNamingTheSettings()
    {
        var node = Peers.RequireNode(RepositoryPaths.ExamplesNodeDirectory);

        var result = await RunAsync(node, [Path.Combine(RepositoryPaths.ExamplesNodeDirectory, "partner_redemptions.js")], new() { ["HLMHUB_CLIENT_SECRET"] = "not-the-secret" });

        Assert.True(result.ExitCode == 1, result.Describe());
        var line = Assert.Single(Lines(result));
        Assert.StartsWith("error: wrong client id or secret for demo-partner-bakery: check HLMHUB_CLIENT_ID and HLMHUB_CLIENT_SECRET", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstError_WrongScope_ALandlordCallWithThePartnersClientNamesTheScopeItNeeds()
    {
        Peers.RequirePython();

        var result = await RunPythonAsync("landlord_roster_sync.py", new() { ["HLMHUB_CLIENT_ID"] = "demo-partner-bakery" });

        Assert.True(result.ExitCode == 1, result.Describe());
        var line = Assert.Single(Lines(result));
        Assert.StartsWith("error: permission denied: this call needs scope hlmhub.roster from a landlord client", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstError_ExpiredToken_PythonPrintsOneLineSayingToGetANewOne()
    {
        Peers.RequirePython();
        // A hub of its own whose tokens live one second, without clock tolerance: the demo hub's live 15 minutes.
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-expired-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = dataDirectory,
                ["Auth:TokenLifetime"] = "00:00:01",
                ["Auth:ClockSkew"] = "00:00:00",
            });
            await hub.WaitStartedAsync();
            var token = await BootstrapAdmin.Read(dataDirectory).GetTokenAsync(hub.HttpAddress);
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Claims(token).GetProperty("exp").GetInt64());
            var wait = expiresAt - TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(1);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var result = await RunPythonAsync("partner_redemptions.py", new()
            {
                ["HLMHUB_ACCESS_TOKEN"] = token,
                ["HLMHUB_GRPC_ADDRESS"] = $"127.0.0.1:{hub.GrpcPort}",
                ["HLMHUB_HTTP_URL"] = hub.HttpAddress.ToString().TrimEnd('/'),
            });

            Assert.True(TimeProvider.System.GetUtcNow() > expiresAt, "the token had not expired when the example ran");
            Assert.True(result.ExitCode == 1, result.Describe());
            var line = Assert.Single(Lines(result));
            Assert.StartsWith("error: the hub refused the access token (expired, or from another hub): get a new one", line, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static System.Text.Json.JsonElement Claims(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement.Clone();
    }

    [Fact]
    public async Task FirstError_UnknownOffer_CurlPrintsTheRejectionAndEndsWithTheDemosOffer()
    {
        RequireCurl();

        // The script prints the hub's answer on standard output, then its error line on standard error. A terminal
        // shows them in that order; two redirected pipes read by two threads do not keep it, and this test once saw
        // the answer's JSON (ending "firstOutcome":"REDEMPTION_OUTCOME_UNSPECIFIED", the default the JSON transcoding
        // writes) as the last line. With standard error sent into standard output, one pipe keeps the order.
        var result = await RunAsync("/bin/bash", ["-c", "exec /bin/bash \"$0\" 2>&1", RedeemScript], new() { ["MEMBER_TOKEN"] = DemoMemberToken(4), ["OFFER_ID"] = "no-such-offer" });

        Assert.True(result.ExitCode == 1, result.Describe());
        Assert.Contains("\"REDEMPTION_REASON_NOT_YOUR_OFFER\"", result.Output, StringComparison.Ordinal);
        Assert.EndsWith("error: offer no-such-offer is unknown or not yours: the demo bakery's is pain-10-pourcent", Lines(result)[^1], StringComparison.Ordinal);
    }

    private static string RedeemScript => Path.Combine(RepositoryPaths.Examples, "curl", "redeem.sh");

    // The first run breaks its stream after two acknowledgements and resends the other three: each comes back
    // DUPLICATE when the hub had committed it before the break, else ACCEPTED (it had not arrived). The second run
    // resends all five with the same ids: every answer is DUPLICATE of an acceptance, and nothing is stored twice.
    private async Task AssertPartnerRunAsync(PeerResult first, PeerResult again, string runId)
    {
        Assert.True(first.ExitCode == 0, first.Describe());
        var lines = Lines(first);
        var breakAt = lines.FindIndex(line => line.StartsWith("breaking the stream after 2 acknowledgements", StringComparison.Ordinal));
        Assert.True(breakAt > 0, first.Describe());
        var before = lines[..breakAt].Where(line => line.StartsWith("ack ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, before.Count);
        Assert.All(before, line => Assert.Matches(@"^ack bakery-\S+-[12] ACCEPTED discount=120 period=\d{4}-\d{2}$", line));
        Assert.Equal("resending 3 unacknowledged events", lines[breakAt + 1]);
        var resent = lines[(breakAt + 2)..].Where(line => line.StartsWith("ack ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, resent.Count);
        Assert.All(resent, line => Assert.Matches(@"^ack bakery-\S+-[345] (ACCEPTED|DUPLICATE \(first answer ACCEPTED\)) discount=120 period=", line));
        Assert.Contains("done: 5 of 5 redemptions accepted, in 2 streams", first.Output, StringComparison.Ordinal);

        Assert.True(again.ExitCode == 0, again.Describe());
        var duplicates = Lines(again).Where(line => line.StartsWith("ack ", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, duplicates.Count);
        Assert.All(duplicates, line => Assert.Matches(@"^ack bakery-\S+-[1-5] DUPLICATE \(first answer ACCEPTED\) discount=120 ", line));
        Assert.Equal(5, await StoredRedemptionsAsync($"bakery-{runId}-"));
    }

    private async Task<int> StoredRedemptionsAsync(string eventIdPrefix)
    {
        var factory = fixture.Hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        return await db.Redemptions.CountAsync(redemption => redemption.PartnerId == DemoData.BakeryId && redemption.PartnerEventId.StartsWith(eventIdPrefix));
    }

    // A host household of the demo that joined the club (DemoData.JoinsClub), by the hub's own member-token key.
    private string DemoMemberToken(int index)
    {
        Assert.True(DemoData.JoinsClub(DemoData.HostLandlordId, index));
        return fixture.Hub.Services.GetRequiredService<MemberTokenGenerator>().Compute(DemoData.HostLandlordId, $"PCH-{index:000000}");
    }

    private Task<PeerResult> RunPythonAsync(string script, Dictionary<string, string>? environment = null) =>
        RunAsync(Peers.Python, [Path.Combine(RepositoryPaths.Examples, "python", script)], environment);

    private Task<PeerResult> RunAsync(string program, IReadOnlyList<string> arguments, Dictionary<string, string>? environment = null)
    {
        var merged = new Dictionary<string, string>(fixture.Environment);
        foreach (var (name, value) in environment ?? [])
        {
            merged[name] = value;
        }
        return PeerProcess.RunAsync(program, arguments, RepositoryPaths.Root, RunTimeout, merged);
    }

    private static List<string> Lines(PeerResult result) => [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    // By the hub's clock, in whole seconds as a partner's system would print it: the next whole second, so never before
    // the demo's federation agreement was accepted (the hub judges an event by the agreement in force at its instant;
    // "a minute ago" fell before it when the fixture's hub had started less than a minute earlier), and within the
    // future the hub accepts (Redemptions:MaxClockSkew, 5 minutes).
    private string TheNextSecond()
    {
        var now = fixture.Hub.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        return DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() + 1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string NewRunId() => Guid.NewGuid().ToString("N")[..12];

    private static string RequireCurl()
    {
        const string curl = "/usr/bin/curl";
        if (!File.Exists(curl))
        {
            Assert.Fail($"{curl} is missing: install Debian package curl; tools/test.sh installs it.");
        }
        return curl;
    }

    // A loopback port nothing listens on.
    private static string ClosedLoopbackUrl() => $"http://127.0.0.1:{LoopbackPorts.Free()}";
}
