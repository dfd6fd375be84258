using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Observability;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;

namespace HlmHub.Server.Tests;

/// <summary>
/// What an operator sees of a running hub, against the real hub on SQLite: its own meter (read as
/// <c>dotnet-counters</c> would, through the host's meter factory) and its HTTP health endpoints over plain HTTP/1.1.
/// </summary>
public sealed class ObservabilityTests(SqliteHubFixture fixture) : IClassFixture<SqliteHubFixture>
{
    private HubHost Hub => fixture.Hub;

    private IMeterFactory Meters => Hub.Services.GetRequiredService<IMeterFactory>();

    [Fact]
    public async Task RosterSyncOverGrpc_CountsEachCommittedChangeByKind_AndTheHouseholdsAFullSnapshotMarksAsLeft()
    {
        var admin = fixture.HubAdmin;
        var landlord = await admin.CreateLandlordAsync(SampleData.Landlord());
        var registered = await admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Roster sync",
            LandlordId = landlord.Id,
            Scopes = { "hlmhub.roster" },
        }, options));
        var token = await Hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
        using var changes = new MetricCollector<long>(Meters, HubMetrics.MeterName, "hlmhub.roster.changes");

        await SyncAsync(token, SessionKind.Delta, Household(1, "M-001"), Household(2, "M-002"), Household(3, "M-003", rooms: 9));
        // The snapshot lists M-001 again unchanged and M-004 new: M-002 is marked as left.
        await SyncAsync(token, SessionKind.FullSnapshot, Household(1, "M-001"), Household(2, "M-004"));

        Assert.Equal(
            new Dictionary<string, long> { ["created"] = 3, ["rejected:rooms_out_of_range"] = 1, ["unchanged"] = 1, ["left"] = 1 },
            changes.GetMeasurementSnapshot()
                .GroupBy(measurement => measurement.Tags[HubMetrics.RosterChangeKindTag] + (measurement.Tags.TryGetValue(HubMetrics.ReasonTag, out var reason) ? ":" + reason : ""))
                .ToDictionary(group => group.Key, group => group.Sum(measurement => measurement.Value)));
        Assert.Equal("{change}", changes.Instrument!.Unit);
    }

    [Fact]
    public async Task TokenRequests_AreCountedByOutcomeAndClientKind_WithoutTheClientId()
    {
        var (clientId, secret) = Hub.BootstrapAdmin();
        using var requests = new MetricCollector<long>(Meters, HubMetrics.MeterName, "hlmhub.token.requests");

        await Hub.GetTokenAsync(clientId, secret);
        using var refused = await Hub.RequestTokenAsync(clientId, secret + "x");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var measurements = requests.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.Equal(("success", "admin", "client_credentials"), Tags(measurements[0]));
        Assert.Equal(("failure", "unknown", "client_credentials"), Tags(measurements[1]));
        Assert.Equal("invalid_client", measurements[1].Tags[HubMetrics.ErrorTypeTag]);
        Assert.DoesNotContain(measurements.SelectMany(measurement => measurement.Tags.Values), value => Equals(value, clientId));

        static (object?, object?, object?) Tags(CollectedMeasurement<long> measurement) =>
            (measurement.Tags[HubMetrics.OutcomeTag], measurement.Tags[HubMetrics.ClientKindTag], measurement.Tags[HubMetrics.GrantTypeTag]);
    }

    [Fact]
    public async Task EligibilityChecks_AreCountedByResultAndReason()
    {
        var partner = await fixture.HubAdmin.CreatePartnerAsync(SampleData.Plumber());
        var registered = await fixture.HubAdmin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Partner,
            DisplayName = "Checks",
            PartnerId = partner.Id,
            Scopes = { "hlmhub.offers.read" },
        }, options));
        var token = await Hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
        using var checks = new MetricCollector<long>(Meters, HubMetrics.MeterName, "hlmhub.eligibility.checks");
        var eligibility = new EligibilityService.EligibilityServiceClient(Hub.Channel);
        var headers = new Metadata { { "authorization", "Bearer " + token } };

        var malformed = await eligibility.CheckAsync(new CheckEligibilityRequest { MemberToken = "", OfferId = "x" }, headers);
        var unknownOffer = await eligibility.CheckAsync(new CheckEligibilityRequest { MemberToken = "mt_nobody", OfferId = "no-such-offer" }, headers);

        Assert.Equal((false, false), (malformed.Eligible, unknownOffer.Eligible));
        Assert.Equal(
            [("not_eligible", "malformed"), ("not_eligible", "not_your_offer")],
            checks.GetMeasurementSnapshot().Select(measurement => (measurement.Tags[HubMetrics.OutcomeTag], measurement.Tags[HubMetrics.ReasonTag])));
    }

    [Fact]
    public async Task SchedulerCheck_RunOnceTheHubHasStopped_ReadsDegraded_AndLogsNoError()
    {
        // The health publisher can run a round while the hub shuts down, after Quartz has shut its scheduler down.
        await using var database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        var hub = await HubHost.StartAsync(database);
        var health = hub.Services.GetRequiredService<HealthCheckService>();
        HealthReport? afterStop = null;
        hub.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() =>
            afterStop = health.CheckHealthAsync(check => check.Name == "scheduler").GetAwaiter().GetResult());

        await hub.DisposeAsync(); // stops the hub, and fails on any error it logged

        Assert.NotNull(afterStop);
        Assert.Equal(HealthStatus.Degraded, afterStop.Entries["scheduler"].Status);
        Assert.Equal("The hub is stopping; the scheduler stops with it.", afterStop.Entries["scheduler"].Description);
    }

    [Fact]
    public async Task DatabaseCheck_OnAFirstStartBeforeTheSchemaExists_ReadsDegraded_ButUnhealthyOnceTheHubHasStarted()
    {
        // The health publisher can run its first round while the start-up migrations create the database: that must
        // not log an error (a newcomer's first start would show one), yet a started hub on such a database is unhealthy.
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Sqlite, TestTimeouts.Token());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(database.Settings).Build();
        await using var services = new ServiceCollection().AddHlmHubStorage(configuration).AddLogging().BuildServiceProvider();
        using var lifetime = new TestLifetime();
        var check = new Hosting.DatabaseHealthCheck(
            services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>(), services.GetRequiredService<IDatabaseMigrator>(), lifetime);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("database", check, null, null) };

        var whileStarting = await check.CheckHealthAsync(context, TestTimeouts.Token());
        lifetime.Start();
        var started = await check.CheckHealthAsync(context, TestTimeouts.Token());
        await services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(TestTimeouts.Token());
        var migrated = await check.CheckHealthAsync(context, TestTimeouts.Token());

        Assert.Equal(
            (HealthStatus.Degraded, "The hub is starting; its database schema is being created or brought up to date."),
            (whileStarting.Status, whileStarting.Description));
        Assert.Equal(HealthStatus.Unhealthy, started.Status);
        Assert.Equal(HealthStatus.Healthy, migrated.Status);
    }

    /// <summary>A host lifetime the test starts by hand.</summary>
    private sealed class TestLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void Start() => _started.Cancel();

        public void StopApplication() => throw new NotSupportedException();

        public void Dispose() => _started.Dispose();
    }

    [Fact]
    public async Task HttpHealthEndpoints_OverHttp11_ReportEachReadyCheckByName_AndNothingElse()
    {
        using var http = new HttpClient { BaseAddress = Hub.HttpAddress, DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var ready = await http.GetAsync("/health/ready").DefaultTimeout();
        using var live = await http.GetAsync("/health/live").DefaultTimeout();
        var body = await ready.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (ready.StatusCode, live.StatusCode));
        Assert.Equal(HttpVersion.Version11, ready.Version);
        Assert.Equal("""{"status":"Healthy","checks":{"database":"Healthy","scheduler":"Healthy"}}""", body);
        Assert.Equal("no-store", ready.Headers.CacheControl?.ToString());
        Assert.Equal("""{"status":"Healthy","checks":{}}""", await live.Content.ReadAsStringAsync());
    }

    private async Task SyncAsync(string token, SessionKind kind, params HouseholdChange[] items)
    {
        var roster = new RosterService.RosterServiceClient(Hub.Channel);
        using var call = roster.SyncRoster(new Metadata { { "authorization", "Bearer " + token } });
        await call.RequestStream.WriteAsync(new SyncRosterRequest { Start = new SessionStart { SessionId = Guid.NewGuid().ToString(), Kind = kind } });
        var batch = new RosterBatch();
        batch.Items.AddRange(items);
        await call.RequestStream.WriteAsync(new SyncRosterRequest { Batch = batch });
        await call.RequestStream.WriteAsync(new SyncRosterRequest { Complete = new SessionComplete() });
        await call.RequestStream.CompleteAsync();
        Assert.True((await call.ResponseAsync.DefaultTimeout()).Session.Completed);
    }

    private static HouseholdChange Household(long sequence, string reference, int rooms = 3) =>
        new() { Sequence = sequence, Kind = ChangeKind.Upsert, LandlordReference = reference, Version = 1, Rooms = rooms };
}

/// <summary>
/// The real HlmHub.Server process, as an operator runs it: OTLP export when configured, the trace id in its JSON
/// logs, its readiness when the database goes away, and its refusal of a bad setting.
/// </summary>
public sealed class ObservabilityProcessTests
{
    [Theory]
    [InlineData("Roster:MaxItemsPerBatch", "0", "Roster:MaxItemsPerBatch must be greater than 0 (it is 0)")]
    [InlineData("Hub:ResponseCompression", "brotli", "Hub:ResponseCompression must be one of empty, 'gzip' (it is 'brotli')")]
    [InlineData("Telemetry:OtlpEndpoint", "collector:4317", "Telemetry:OtlpEndpoint must be empty or an absolute http(s) URL")]
    [InlineData("Auth:EmbeddedIssuer:KeyAnnouncementLead", "40.00:00:00", "Auth:EmbeddedIssuer:KeyAnnouncementLead must be shorter than Auth:EmbeddedIssuer:KeyRotationInterval")]
    [InlineData("Hub:MaxMessageSizeBytes", "lots", "'Hub:MaxMessageSizeBytes'")]
    [InlineData("Storage:Provider", "Oracle", "Storage:Provider must be 'Sqlite', 'Postgres' or 'SqlServer', not 'Oracle'")]
    // Read by the fee jobs and by reconciliation, each checking it: one sentence all the same.
    [InlineData("Fees:PaymentTermDays", "400", "Fees:PaymentTermDays must be 0 to 366 (it is 400) (docs")]
    [InlineData("Statements:MaxLines", "0", "Statements:MaxLines must be greater than 0 (it is 0)")]
    // Read when the first member token is needed: a bad key used to start the hub and fail every roster call INTERNAL.
    [InlineData("MemberTokens:Key", "abc", "MemberTokens:Key must be base64 (it is not valid base64)")]
    [InlineData("MemberTokens:Key", "AAAA", "MemberTokens:Key must be at least 32 bytes (it is 3)")]
    // With the default rate of 500 a second: a bucket of 50 would hold every caller to 50 a second.
    [InlineData("Hub:CallBurstPerCaller", "50", "Hub:CallBurstPerCaller must be at least Hub:CallsPerSecondPerCaller (500), or the rate is capped at the burst (it is 50)")]
    public Task ABadSetting_StopsTheHubWithOneLineNamingItAndItsRule_AndExitCode78(string setting, string value, string expected) =>
        AssertRefusedAsync(new Dictionary<string, string?> { [setting] = value }, expected);

    // A page is read into memory at once: a million households a page is no setting to start with.
    [Fact]
    public Task AWatchPageSizeOverItsBound_StopsTheHub() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Eligibility:WatchPageSize"] = "100000" },
            "Eligibility:WatchPageSize must be 1 to 10000 (it is 100000)");

    // 100 bytes used to be refused in terms of Statements:MaxLines ("at most 0"); int.MaxValue used to start a hub
    // that would hold 2 GB of one caller's message in memory.
    [Theory]
    [InlineData("100")]
    [InlineData("2147483647")]
    public Task AMessageSizeOutsideItsRange_StopsTheHubNamingTheRange(string value) =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Hub:MaxMessageSizeBytes"] = value },
            $"Hub:MaxMessageSizeBytes must be 16384 to 67108864 (it is {value})");

    // Each is one reply: more than fit Hub:MaxMessageSizeBytes and the caller got RESOURCE_EXHAUSTED instead of it.
    [Theory]
    [InlineData("Reconciliation:MaxDiscrepanciesInReport", "100000", "the discrepancies at their longest that fit Hub:MaxMessageSizeBytes (4194304) in one report (it is 100000)")]
    [InlineData("Roster:MaxProblemsReported", "10000", "the problems at their longest that fit Hub:MaxMessageSizeBytes (4194304) in one session's answer (it is 10000)")]
    public Task MoreItemsInOneReplyThanFitTheMessageSize_StopTheHubNamingBothSettings(string setting, string value, string expected) =>
        AssertRefusedAsync(new Dictionary<string, string?> { [setting] = value }, $"{setting} must be at most ", expected);

    // A page of member tokens is read and sent at once.
    [Fact]
    public Task AMemberTokensPageSizeOverItsBound_StopsTheHub() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Roster:MemberTokensPageSize"] = "100000" },
            "Roster:MemberTokensPageSize must be 1 to 10000 (it is 100000)");

    // A key file damaged on disk used to start the hub, which then answered INTERNAL to every roster call: the key
    // partners' tokens were made with is worth restoring, not replacing, so the hub says which file and why at once.
    [Theory]
    [InlineData("not base64 at all!", "must be base64 (it is not valid base64)")]
    [InlineData("AAAA", "must be at least 32 bytes (it is 3)")]
    public async Task ADamagedMemberTokenKeyFile_StopsTheHubNamingTheFile(string content, string rule)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-config-").FullName;
        try
        {
            var keyFile = Path.Combine(dataDirectory, MemberTokenKeys.KeyFileName);
            await File.WriteAllTextAsync(keyFile, content, TestTimeouts.Token());
            await using var hub = HubProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory });

            var exitCode = await hub.WaitForExitAsync();

            Assert.True(exitCode == 78, $"exit {exitCode}:\n{hub.Output}");
            var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith("hlmhub: invalid configuration:", StringComparison.Ordinal));
            Assert.Contains(keyFile, line, StringComparison.Ordinal);
            Assert.Contains(rule, line, StringComparison.Ordinal);
            Assert.Equal(content, await File.ReadAllTextAsync(keyFile, TestTimeouts.Token()));
            Assert.False(File.Exists(Path.Combine(dataDirectory, BootstrapAdmin.FileName)), "the hub served");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    // The smallest message size with the limits above at their defaults: each named, on one line.
    [Fact]
    public Task TheSmallestMessageSizeWithDefaultReplyLimits_StopsTheHubNamingEach() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Hub:MaxMessageSizeBytes"] = "16384", ["Statements:MaxEventIds"] = "10", ["Statements:MaxLines"] = "10" },
            "Reconciliation:MaxDiscrepanciesInReport must be at most ",
            "Roster:MaxProblemsReported must be at most ",
            "Roster:MemberTokensPageSize must be at most ");

    // A statement that long could never reach the hub: the message size would refuse it first, naming no setting.
    [Fact]
    public Task MoreStatementEventIdsThanFitTheMessageSize_StopTheHubNamingBothSettings() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Statements:MaxEventIds"] = "100000" },
            "Statements:MaxEventIds must be at most ",
            "the event ids of 100 characters that fit Hub:MaxMessageSizeBytes (4194304) beside Statements:MaxLines (1000) lines (it is 100000)");

    // The same rule the other way: a smaller message size with the default limits of statements.
    [Fact]
    public Task AMessageSizeTooSmallForTheDefaultStatementLimits_StopsTheHubNamingThem() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Hub:MaxMessageSizeBytes"] = "1048576" },
            "Statements:MaxEventIds must be at most ",
            "fit Hub:MaxMessageSizeBytes (1048576) beside Statements:MaxLines (1000) lines (it is 20000)");

    [Fact]
    public Task BadSettingsInTwoSections_StopTheHubWithOneLineNamingBoth_AndExitCode78() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Roster:MaxItemsPerBatch"] = "0", ["Eligibility:WatchPageSize"] = "0" },
            "Roster:MaxItemsPerBatch must be greater than 0 (it is 0)",
            "Eligibility:WatchPageSize must be 1 to 10000 (it is 0)");

    [Fact]
    public Task BadSettingsInHubAndAnotherSection_StopTheHubWithOneLineNamingBoth() =>
        AssertRefusedAsync(
            new Dictionary<string, string?> { ["Hub:MaxStreamsPerConnection"] = "0", ["Roster:MaxItemsPerBatch"] = "0" },
            "Hub:MaxStreamsPerConnection must be greater than 0 (it is 0)",
            "Roster:MaxItemsPerBatch must be greater than 0 (it is 0)");

    [Fact]
    public async Task APortAlreadyInUse_StopsTheSecondHubWithALineNamingTheAddressAndTheSettings_AndExitCode78()
    {
        var first = Directory.CreateTempSubdirectory("hlmhub-port-").FullName;
        var second = Directory.CreateTempSubdirectory("hlmhub-port-").FullName;
        try
        {
            await using var running = HubProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = first });
            await running.WaitStartedAsync();
            await using var hub = HubProcess.Start(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = second,
                ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{running.GrpcPort}",
            });

            var exitCode = await hub.WaitForExitAsync();

            Assert.True(exitCode == 78, $"exit {exitCode}:\n{hub.Output}");
            var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith("hlmhub: invalid configuration:", StringComparison.Ordinal));
            Assert.Contains($"http://127.0.0.1:{running.GrpcPort}: address already in use", line, StringComparison.Ordinal);
            Assert.Contains("Kestrel:Endpoints:Grpc:Url and Kestrel:Endpoints:Http:Url", line, StringComparison.Ordinal);
            // The services stopped before they ever ran report nothing: no crash logged after the one line.
            Assert.DoesNotContain("BackgroundService", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    [Theory]
    [InlineData("notaurl", "must be absolute URLs such as http://127.0.0.1:5080 (Invalid url: 'notaurl')")]
    // TEST-NET-3 (RFC 5737): never an address of this machine.
    [InlineData("http://203.0.113.5:7580", "must name an address of this machine")]
    [InlineData("https://127.0.0.1:7580", "an https:// endpoint needs a certificate (Kestrel:Endpoints:{Grpc,Http}:Certificate:Path)")]
    public async Task AnEndpointKestrelCannotSetUp_StopsTheHubWithOneLineNamingTheSettings_AndExitCode78(string url, string expected)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-endpoint-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = dataDirectory,
                ["Kestrel:Endpoints:Grpc:Url"] = url,
            });

            var exitCode = await hub.WaitForExitAsync();

            Assert.True(exitCode == 78, $"exit {exitCode}:\n{hub.Output}");
            var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith("hlmhub: invalid configuration:", StringComparison.Ordinal));
            Assert.Contains("Kestrel:Endpoints:Grpc:Url and Kestrel:Endpoints:Http:Url", line, StringComparison.Ordinal);
            Assert.Contains(expected, line, StringComparison.Ordinal);
            // The services stopped before they ever ran report nothing: no crash logged after the one line.
            Assert.DoesNotContain("BackgroundService", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Postgres", "Host=127.0.0.1;Port=notaport;Username=hub;Password=sEcr3t-pw", "ConnectionStrings:HlmHub is not a valid Postgres connection string: Couldn't set port")]
    [InlineData("Postgres", "Hots=127.0.0.1;Password=sEcr3t-pw", "ConnectionStrings:HlmHub is not a valid Postgres connection string: Couldn't set hots")]
    [InlineData("SqlServer", "Server=db;Pasword=sEcr3t-pw", "ConnectionStrings:HlmHub is not a valid SqlServer connection string: Keyword not supported: 'pasword'")]
    [InlineData("Sqlite", "Data Sorce=hub.db;Password=sEcr3t-pw", "ConnectionStrings:HlmHub is not a valid Sqlite connection string: Connection string keyword 'data sorce' is not supported")]
    public Task AMalformedConnectionString_StopsTheHubWithOneLineNamingTheSetting_NotItsPassword(string provider, string connectionString, string expected) =>
        AssertDatabaseRefusalAsync(provider, connectionString, 78, "hlmhub: invalid configuration:", expected);

    [Fact]
    public Task AnUnreachablePostgres_StopsTheHubWithOneLineAndExitCode69_NotACrash() =>
        // A loopback port nothing listens on: the connection is refused at once.
        AssertDatabaseRefusalAsync(
            "Postgres", $"Host=127.0.0.1;Port={LoopbackPorts.Free()};Username=hub;Password=sEcr3t-pw;Timeout=5", 69,
            "hlmhub: the database could not be reached at start-up", "Connection refused", "ConnectionStrings:HlmHub");

    [Fact]
    public Task APostgresRoleThatDoesNotExist_StopsTheHubWithOneLineNamingTheSettingAndTheServersAnswer() =>
        // (A database that does not exist is no refusal here: the hub creates it when its role may, as the test server's may.)
        AssertDatabaseRefusalAsync(
            "Postgres", new NpgsqlConnectionStringBuilder(TestDatabaseServers.Postgres) { Username = "no_such_role", Password = "sEcr3t-pw" }.ConnectionString, 78,
            "hlmhub: invalid configuration:", "ConnectionStrings:HlmHub: the database refused it (28000: role \"no_such_role\" does not exist)");

    [Fact]
    public async Task ADataDirectoryThatCannotBeCreated_StopsTheHubWithOneLineNamingTheSetting()
    {
        // /proc refuses every new directory, even to root (the tests may run as root, which file modes do not stop).
        await using var hub = HubProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = "/proc/hlmhub-no-such-dir" });

        var exitCode = await hub.WaitForExitAsync();

        Assert.True(exitCode == 78, $"exit {exitCode}:\n{hub.Output}");
        var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith("hlmhub: invalid configuration:", StringComparison.Ordinal));
        Assert.Contains("Storage:DataDirectory (or the Data Source of ConnectionStrings:HlmHub) must be a directory the hub can create and write: /proc/hlmhub-no-such-dir/hlmhub.db", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", hub.Output, StringComparison.Ordinal);
    }

    private static async Task AssertDatabaseRefusalAsync(string provider, string connectionString, int expectedExitCode, string prefix, params string[] expected)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-database-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = dataDirectory,
                ["Storage:Provider"] = provider,
                ["ConnectionStrings:HlmHub"] = connectionString,
            });

            var exitCode = await hub.WaitForExitAsync();

            // Not the runtime's crash report (SIGABRT, 134, "Unhandled exception." and its stack trace).
            Assert.True(exitCode == expectedExitCode, $"exit {exitCode}:\n{hub.Output}");
            Assert.DoesNotContain("Unhandled exception", hub.Output, StringComparison.Ordinal);
            var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith(prefix, StringComparison.Ordinal));
            Assert.All(expected, part => Assert.Contains(part, line, StringComparison.Ordinal));
            Assert.DoesNotContain("sEcr3t-pw", hub.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dataDirectory, BootstrapAdmin.FileName)), "the hub served");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task AssertRefusedAsync(Dictionary<string, string?> settings, params string[] expected)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-config-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?>(settings) { ["Storage:DataDirectory"] = dataDirectory });

            var exitCode = await hub.WaitForExitAsync();

            Assert.True(exitCode == 78, $"exit {exitCode}:\n{hub.Output}");
            var line = Assert.Single(hub.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), candidate => candidate.StartsWith("hlmhub: invalid configuration:", StringComparison.Ordinal));
            Assert.All(expected, part => Assert.Contains(part, line, StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", hub.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(dataDirectory, BootstrapAdmin.FileName)), "the hub served");
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithAnOtlpEndpointConfigured_TheHubPostsItsTracesAndMetricsToIt(bool standardVariables)
    {
        await using var collector = await OtlpCollector.StartAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-otlp-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        var settings = new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory };
        if (standardVariables)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address;
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        }
        else
        {
            settings["Telemetry:OtlpEndpoint"] = collector.Address;
            settings["Telemetry:OtlpProtocol"] = "http/protobuf";
        }

        try
        {
            await using var hub = HubProcess.Start(settings, environment: environment);
            await hub.WaitStartedAsync();
            using var http = new HttpClient { BaseAddress = hub.HttpAddress };
            using var traced = await http.GetAsync("/health/ready").DefaultTimeout();

            await Poll.UntilAsync(
                () => collector.Posts.Contains("/v1/traces") && collector.Posts.Contains("/v1/metrics"),
                "for the collector to receive traces and metrics",
                details: () => $"it received {string.Join(", ", collector.Posts)}\n{hub.Output}");

            Assert.All(collector.ContentTypes, contentType => Assert.Equal("application/x-protobuf", contentType));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task ALogLineWrittenDuringATracedRequest_CarriesItsTraceId_InTheJsonConsoleFormat()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-logs-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?>
            {
                ["Storage:DataDirectory"] = dataDirectory,
                ["Logging:Console:FormatterName"] = "json",
                ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            });
            await hub.WaitStartedAsync();
            var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            // No propagator: a test process with activity listeners would otherwise replace the traceparent sent here.
            using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = hub.HttpAddress };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
            {
                Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("nobody:wrong")));
            request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(BitConverter.GetBytes(42L))}-01");

            using var response = await http.SendAsync(request).DefaultTimeout();
            var line = await WaitForLineAsync(hub, "failed client authentication");

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            using var json = JsonDocument.Parse(line);
            var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray();
            Assert.Contains(scopes, scope => scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty("TraceId", out var id) && id.GetString() == traceId);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task HealthReady_OverHttp11_IsHealthy_ThenUnhealthyWhenTheDatabaseIsGone()
    {
        await using var database = await EmptyDatabase.CreateAsync(Storage.StorageProvider.Postgres, TestTimeouts.Token());
        await using var hub = HubProcess.Start(database.Settings);
        await hub.WaitStartedAsync();
        using var http = new HttpClient { BaseAddress = hub.HttpAddress, DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var before = await http.GetAsync("/health/ready").DefaultTimeout();
        var beforeBody = await before.Content.ReadAsStringAsync();
        await using (var admin = new NpgsqlConnection(TestDatabaseServers.Postgres))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{database.DatabaseName}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        using var after = await http.GetAsync("/health/ready").DefaultTimeout();
        var afterBody = await after.Content.ReadAsStringAsync();
        using var live = await http.GetAsync("/health/live").DefaultTimeout();

        Assert.True(before.StatusCode == HttpStatusCode.OK, beforeBody + "\n" + hub.Output);
        Assert.Equal("""{"status":"Healthy","checks":{"database":"Healthy","scheduler":"Healthy"}}""", beforeBody);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        using var afterJson = JsonDocument.Parse(afterBody);
        Assert.Equal("Unhealthy", afterJson.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", afterJson.RootElement.GetProperty("checks").GetProperty("database").GetString());
        // The process itself still answers: an orchestrator must not restart it for a database outage.
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task AnAnonymousTokenRequest_IsNotEchoedIntoTheLog_NorADisguisedClientId()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-logs-").FullName;
        try
        {
            await using var hub = HubProcess.Start(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory });
            await hub.WaitStartedAsync();
            using var http = new HttpClient { BaseAddress = hub.HttpAddress, DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

            // Parameters of the caller's choosing: OpenIddict logs each request's parameters at Information.
            using var unsupported = await http.PostAsync("/connect/token", new FormUrlEncodedContent(
                [new("grant_type", "password"), new("x", "ECHOED-PARAMETER")])).DefaultTimeout();
            using var forged = await http.PostAsync("/connect/token", new FormUrlEncodedContent(
                [new("grant_type", "client_credentials"), new("client_id", "nobody\nFORGED-LINE"), new("client_secret", "whatever")])).DefaultTimeout();
            await WaitForLineAsync(hub, "for client (unregistered, sha256:");
            await hub.KillAsync();

            Assert.Equal(HttpStatusCode.BadRequest, unsupported.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
            Assert.DoesNotContain("ECHOED-PARAMETER", hub.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("FORGED-LINE", hub.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<string> WaitForLineAsync(HubProcess hub, string text)
    {
        string? Line(string output) => output.Split('\n').FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal));
        await hub.WaitForAsync(output => Line(output) is not null, $"for a log line containing '{text}'");
        return Line(hub.Output)!;
    }
}
