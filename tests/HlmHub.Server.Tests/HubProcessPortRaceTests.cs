using System.Net;
using System.Net.Sockets;
using HlmHub.Storage;

namespace HlmHub.Server.Tests;

/// <summary>
/// The race every process test runs: the hub's ports are chosen free and released, then bound by the hub, and another
/// process may take one in between. The hub then stops on "address already in use"; <see cref="HubProcess"/> starts it
/// again on fresh ports, so the test goes on instead of failing for a reason that is not the hub's.
/// </summary>
public sealed class HubProcessPortRaceTests
{
    [Fact]
    public async Task APortTakenBetweenItsChoiceAndTheHubsBind_TheHubIsStartedAgainOnFreshPorts_AndServes()
    {
        await using var database = await EmptyDatabase.CreateAsync(StorageProvider.Sqlite, TestTimeouts.Token());
        TcpListener? other = null;
        var taken = 0;
        try
        {
            await using var hub = HubProcess.Start(ports =>
            {
                if (other is null)
                {
                    // The other process's part, played here: it takes the Grpc endpoint's port once it is chosen.
                    other = new TcpListener(IPAddress.Loopback, ports.Grpc);
                    other.Start();
                    taken = ports.Grpc;
                }

                return database.Settings;
            });

            await hub.WaitStartedAsync();
            using var http = new HttpClient { BaseAddress = hub.HttpAddress };
            var health = await http.GetStringAsync("/healthz").DefaultTimeout();

            Assert.Equal("Healthy", health);
            Assert.NotEqual(taken, hub.GrpcPort);
            var restart = Assert.Single(hub.Output.Split('\n'), line => line.StartsWith($"[{nameof(HubProcess)}] start 2 of at most 3", StringComparison.Ordinal));
            Assert.Contains($"http://127.0.0.1:{taken}: address already in use", restart, StringComparison.Ordinal);
        }
        finally
        {
            other?.Dispose();
        }
    }
}
