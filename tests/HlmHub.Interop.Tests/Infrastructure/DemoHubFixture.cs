using HlmHub.Server.Features.Demo;
using HlmHub.Server.Tests.Infrastructure;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// One real hub with the demo seeded (<c>--seed-demo</c>, as examples/README.md starts it), and the environment an
/// example needs to reach it: its two addresses and the demo-clients.json the seed wrote.
/// </summary>
public sealed class DemoHubFixture : IAsyncLifetime
{
    private TestDatabase? _database;
    private HubHost? _hub;

    internal HubHost Hub => _hub ?? throw new InvalidOperationException("The hub has not started.");

    /// <summary>The settings an example reads, pointing at this hub.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["HLMHUB_GRPC_ADDRESS"] = $"127.0.0.1:{Hub.Address.Port}",
        ["HLMHUB_HTTP_URL"] = Hub.HttpAddress.ToString().TrimEnd('/'),
        ["HLMHUB_DEMO_CLIENTS"] = Path.Combine(Hub.DataDirectory, DemoSeeder.CredentialsFileName),
    };

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(TestProvider.Sqlite);
        // The seed runs before the hub reports it has started, so the demo is complete when this returns.
        _hub = await HubHost.StartAsync(_database, DemoCommandLine.SeedDemoSwitch);
    }

    public async Task DisposeAsync()
    {
        // The database goes even when stopping the hub fails (it fails on the hub's unexpected error logs).
        await using (_database)
        {
            if (_hub is not null)
            {
                await _hub.DisposeAsync();
            }
        }
    }
}
