using System.Text.Json;
using HlmHub.Storage;

namespace HlmHub.Cli.Tests.Infrastructure;

/// <summary>
/// One real hub process per test class, on a fresh SQLite database, with the demo seeded through the CLI itself
/// (<c>hlmhub demo seed</c>, run by the bootstrap hub administrator). Hands out the environment each kind of caller
/// runs <c>hlmhub</c> with.
/// </summary>
public sealed class HubFixture : IAsyncLifetime
{
    private EmptyDatabase? _database;
    private HubProcess? _hub;

    /// <summary>A scratch directory the CLI runs in (it writes credential files there).</summary>
    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "hlmhub-cli-tests-" + Guid.NewGuid().ToString("N"));

    public string GrpcUrl => $"http://127.0.0.1:{Hub.GrpcPort}";

    /// <summary>The hub's Http endpoint, from which the CLI discovers the token endpoint.</summary>
    public string HttpUrl => $"http://127.0.0.1:{Hub.HttpPort}";

    public (string ClientId, string Secret) HubAdmin { get; private set; }

    /// <summary>The demo clients' credentials, as <c>hlmhub demo seed</c> wrote them.</summary>
    public IReadOnlyDictionary<string, (string ClientId, string Secret)> DemoClients { get; private set; } = new Dictionary<string, (string, string)>();

    public string DemoCredentialsPath => Path.Combine(WorkDirectory, "demo-clients.json");

    /// <summary>The hub's own copy of the demo clients' credentials, in its data directory.</summary>
    public string HubDemoCredentialsPath =>
        Path.Combine(_database?.DataDirectory ?? throw new InvalidOperationException("The hub has not started."), "demo-clients.json");

    /// <summary>What the demo seed printed and returned, for the test of that command.</summary>
    internal CliResult? DemoSeed { get; private set; }

    internal HubProcess Hub => _hub ?? throw new InvalidOperationException("The hub has not started.");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        _database = await EmptyDatabase.CreateAsync(StorageProvider.Sqlite, TestTimeouts.Token());
        _hub = HubProcess.Start(_database.Settings);
        await _hub.WaitStartedAsync();
        var admin = BootstrapAdmin.Read(_database.DataDirectory);
        HubAdmin = (admin.ClientId, admin.Secret);

        DemoSeed = await RunAsync(As(HubAdmin), "demo", "seed");
        Assert.True(DemoSeed.ExitCode == 0, DemoSeed.ToString());
        using var demo = JsonDocument.Parse(await File.ReadAllTextAsync(DemoCredentialsPath));
        DemoClients = demo.RootElement.GetProperty("clients").EnumerateArray().ToDictionary(
            client => client.GetProperty("role").GetString()!,
            client => (client.GetProperty("client_id").GetString()!, client.GetProperty("client_secret").GetString()!));
    }

    /// <summary>The environment of a CLI user authenticating with a client secret (token endpoint by discovery).</summary>
    public Dictionary<string, string> As((string ClientId, string Secret) client) => new()
    {
        ["HLMHUB_URL"] = GrpcUrl,
        ["HLMHUB_AUTH_URL"] = HttpUrl,
        ["HLMHUB_CLIENT_ID"] = client.ClientId,
        ["HLMHUB_CLIENT_SECRET"] = client.Secret,
        // A fresh hub's first answers come slowly on a loaded test machine: well above the CLI's 30 s default.
        ["HLMHUB_TIMEOUT"] = "180",
    };

    internal Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        CliProcess.RunAsync(environment, WorkDirectory, arguments);

    public async Task DisposeAsync()
    {
        try
        {
            if (_hub is not null)
            {
                await _hub.DisposeAsync();
            }
        }
        finally
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }

            if (Directory.Exists(WorkDirectory))
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
        }
    }
}
