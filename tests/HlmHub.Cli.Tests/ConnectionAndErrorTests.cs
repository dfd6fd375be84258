using HlmHub.Cli.Tests.Infrastructure;

namespace HlmHub.Cli.Tests;

/// <summary>
/// How <c>hlmhub</c> connects and fails: exit codes 2, 3 and 4 with one line on standard error and no stack trace,
/// against a real hub process.
/// </summary>
public sealed class ConnectionAndErrorTests(HubFixture hub) : IClassFixture<HubFixture>
{
    [Fact]
    public async Task AWrongSecret_Exits3_WithOneLineNamingTheClient()
    {
        var result = await hub.RunAsync(hub.As((hub.HubAdmin.ClientId, "not-the-secret")), "clients", "list");

        Assert.True(result.ExitCode == 3, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("invalid_client", line, StringComparison.Ordinal);
        Assert.Contains(hub.HubAdmin.ClientId, line, StringComparison.Ordinal);
        AssertNoTrace(result);
        Assert.DoesNotContain("not-the-secret", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithoutTheAdminScope_Exits3_NamingTheScope()
    {
        var result = await hub.RunAsync(hub.As(hub.DemoClients["landlord"]), "clients", "list");

        Assert.True(result.ExitCode == 3, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("invalid_scope", line, StringComparison.Ordinal);
        Assert.Contains("hlmhub.admin", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public async Task AClubAdministrator_ManagingClients_Exits3_PermissionDenied()
    {
        var result = await hub.RunAsync(hub.As(hub.DemoClients["club_admin"]), "clients", "list");

        Assert.True(result.ExitCode == 3, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("may not do this", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public async Task AnUnreachableHub_Exits4_WithOneLineNamingTheAddress()
    {
        var environment = hub.As(hub.HubAdmin);
        var closed = LoopbackPorts.Free();
        environment["HLMHUB_URL"] = $"http://127.0.0.1:{closed}";

        var result = await hub.RunAsync(environment, "clients", "list");

        Assert.True(result.ExitCode == 4, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains($"127.0.0.1:{closed}", line, StringComparison.Ordinal);
        Assert.Contains("HLMHUB_URL", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Theory]
    [InlineData("http", "Http")]  // the Http endpoint (HTTP/1.1 only), an easy mix-up with the gRPC one: it refuses h2c
    [InlineData("https", "Grpc")] // TLS to the cleartext gRPC endpoint: the handshake fails
    public async Task AUrlThatDoesNotSpeakGrpc_Exits4_AsTransport_NotAsAFailureOfTheHub(string scheme, string endpoint)
    {
        var port = endpoint == "Http" ? hub.Hub.HttpPort : hub.Hub.GrpcPort;
        var url = $"{scheme}://127.0.0.1:{port}";

        var result = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list", "--url", url);

        Assert.True(result.ExitCode == 4, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains($"could not talk gRPC to {url}", line, StringComparison.Ordinal);
        Assert.Contains("is --url the hub's gRPC endpoint (h2c or https)?", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public async Task AnUnreachableTokenEndpoint_Exits4_WithOneLine()
    {
        var environment = hub.As(hub.HubAdmin);
        var closed = LoopbackPorts.Free();
        environment["HLMHUB_AUTH_URL"] = $"http://127.0.0.1:{closed}";

        var result = await hub.RunAsync(environment, "clients", "list");

        Assert.True(result.ExitCode == 4, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains($"127.0.0.1:{closed}", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Theory]
    [InlineData(503, 4, "is unavailable (HTTP 503): retry in a moment")]
    [InlineData(502, 4, "is unavailable (HTTP 502): retry in a moment")]
    [InlineData(500, 5, "the token endpoint failed (HTTP 500)")]
    public async Task ATokenEndpointThatFails_ExitsUnreachableOrHubFailure_NotAsBadCredentials(int status, int exitCode, string says)
    {
        // What a proxy answers while the hub restarts: a real HTTP/1.1 server on loopback that fails every request.
        var port = LoopbackPorts.Free();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var answering = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception exception) when (exception is System.Net.HttpListenerException or ObjectDisposedException && !listener.IsListening)
                {
                    return; // stopped
                }

                context.Response.StatusCode = status;
                context.Response.Close();
            }
        });
        var environment = hub.As(hub.HubAdmin);
        environment["HLMHUB_AUTH_URL"] = $"http://127.0.0.1:{port}/connect/token";

        var result = await hub.RunAsync(environment, "clients", "list");
        listener.Stop();
        await answering.DefaultTimeout();

        Assert.True(result.ExitCode == exitCode, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(says, line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Fact]
    public async Task TheTokenEndpointNamedDirectly_IsUsedWithoutDiscovery()
    {
        var environment = hub.As(hub.HubAdmin);
        environment["HLMHUB_AUTH_URL"] = $"{hub.HttpUrl}/connect/token";

        var result = await hub.RunAsync(environment, "clients", "list", "--format", "csv");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(hub.HubAdmin.ClientId, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheClientSecretFlag_TakesPrecedenceOverTheEnvironment()
    {
        var environment = hub.As((hub.HubAdmin.ClientId, "wrong-in-the-environment"));

        var result = await hub.RunAsync(environment, "clients", "list", "--format", "csv", "--client-secret", hub.HubAdmin.Secret);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task AClientOverItsTokenRequestRate_Exits3_SayingToWait_NotThatItFailedToAuthenticate()
    {
        // A hub of its own, allowing one token request per client and minute.
        await using var database = await EmptyDatabase.CreateAsync(HlmHub.Storage.StorageProvider.Sqlite, TestTimeouts.Token());
        await using var limited = HubProcess.Start(new Dictionary<string, string?>(database.Settings)
        {
            ["Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute"] = "1",
        });
        await limited.WaitStartedAsync();
        var admin = BootstrapAdmin.Read(database.DataDirectory);
        var environment = hub.As((admin.ClientId, admin.Secret));
        environment["HLMHUB_URL"] = $"http://127.0.0.1:{limited.GrpcPort}";
        environment["HLMHUB_AUTH_URL"] = $"http://127.0.0.1:{limited.HttpPort}";

        var first = await hub.RunAsync(environment, "clients", "list");
        var second = await hub.RunAsync(environment, "clients", "list");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 3, second.ToString());
        var line = Assert.Single(second.ErrorLines);
        Assert.Contains("too many token requests", line, StringComparison.Ordinal);
        Assert.Contains("wait", line, StringComparison.Ordinal);
        Assert.DoesNotContain("failed authentications", line, StringComparison.Ordinal);
        AssertNoTrace(second);
    }

    [Fact]
    public async Task NoCredentials_Exits2_SayingWhatToSet()
    {
        var result = await hub.RunAsync(new Dictionary<string, string> { ["HLMHUB_URL"] = hub.GrpcUrl }, "clients", "list");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("HLMHUB_CLIENT_ID", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("payments", "record", "--contract", "c")]                                      // a required option missing
    [InlineData("payments", "record", "--contract", "c", "--reference", "r", "--amount", "1.234")] // three decimals
    [InlineData("payments", "record", "--contract", "c", "--reference", "r", "--amount", "79228162514264337593543950335")] // crashed the CLI
    [InlineData("payments", "record", "--contract", "c", "--reference", "r", "--amount", "10", "--paid-at", "2026-13-01")] // no 13th month
    [InlineData("report", "fees", "--club", "c", "--month", "2026-13")]                          // no 13th month
    [InlineData("clients", "lst")]                                                               // a typo
    [InlineData("report")]                                                                       // no subcommand
    public async Task UsageErrors_Exit2_WithOneLinePointingAtTheHelp(params string[] arguments)
    {
        var result = await hub.RunAsync(hub.As(hub.HubAdmin), arguments);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("--help", line, StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task AnAmountOverTheHubsLimit_OrAnInstantThatIsNone_IsNamedForWhatItIs()
    {
        var tooLarge = await hub.RunAsync(hub.As(hub.HubAdmin), "payments", "record", "--contract", "c", "--reference", "r", "--amount", "100000000000000000");
        var notAnInstant = await hub.RunAsync(hub.As(hub.HubAdmin), "payments", "record", "--contract", "c", "--reference", "r", "--amount", "10", "--paid-at", "2026-13-01");

        Assert.True(tooLarge.ExitCode == 2, tooLarge.ToString());
        Assert.Contains("--amount must be at most 10,000,000.00 euros (the hub's limit for one amount), not '100000000000000000'", Assert.Single(tooLarge.ErrorLines), StringComparison.Ordinal);
        Assert.True(notAnInstant.ExitCode == 2, notAnInstant.ToString());
        Assert.Contains("--paid-at must be an instant in ISO 8601, e.g. 2026-10-15T10:00:00+02:00, not '2026-13-01'", Assert.Single(notAnInstant.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHubRefusingAnUnknownId_Exits5_WithItsReason()
    {
        var result = await hub.RunAsync(hub.As(hub.HubAdmin), "payments", "record", "--contract", "no-such-contract", "--reference", "r-1", "--amount", "10");

        Assert.True(result.ExitCode == 5, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("no-such-contract", line, StringComparison.Ordinal);
        AssertNoTrace(result);
    }

    [Theory]
    [InlineData]
    [InlineData("reconcile")]
    [InlineData("report")]
    [InlineData("report", "fees")]
    [InlineData("report", "savings")]
    [InlineData("report", "discrepancies")]
    [InlineData("ledger")]
    [InlineData("ledger", "balances")]
    [InlineData("ledger", "entries")]
    [InlineData("payments")]
    [InlineData("payments", "record")]
    [InlineData("month")]
    [InlineData("month", "close")]
    [InlineData("clients")]
    [InlineData("clients", "add")]
    [InlineData("clients", "list")]
    [InlineData("clients", "rotate-secret")]
    [InlineData("clients", "disable")]
    [InlineData("demo")]
    [InlineData("demo", "seed")]
    public async Task Help_WorksOnEveryCommand_WithoutAHub(params string[] command)
    {
        var result = await CliProcess.RunAsync(new Dictionary<string, string>(), hub.WorkDirectory, [.. command, "--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Output, StringComparison.Ordinal);
        Assert.Contains("hlmhub " + string.Join(' ', command), result.Output, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    private static void AssertNoTrace(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Output + result.Error, StringComparison.Ordinal);
    }
}
