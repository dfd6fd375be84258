using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace HlmHub.Tour.Tests;

/// <summary>
/// The README's ten-minute tour as a newcomer runs it: the hub started with the README's own command on its default
/// ports, then every other step's commands in order in one shell. The only change: the data directory is a fresh
/// temporary folder (the hub's <c>Storage:DataDirectory</c> and the tour's <c>data=</c> line), so the checkout's own
/// data is never touched.
/// </summary>
public sealed class ReadmeTourTests
{
    // The tour builds the hub and the CLI itself (Debug, as `dotnet run` and `dotnet build` do): minutes on two cores.
    private static readonly TimeSpan BuildAndStart = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task TheTour_AsWritten_SeedsStreamsAndReconciles_WithNoDiscrepancy_AndReportsTheSavings()
    {
        var tour = ReadmeTour.Read();
        RequireFree(5080);
        RequireFree(5081);
        var dataDirectory = Directory.CreateTempSubdirectory("hlmhub-tour-").FullName;
        try
        {
            await using var hub = Shell.Start(["-c", tour.StartHub], new Dictionary<string, string> { ["Storage__DataDirectory"] = dataDirectory });
            // Step 1 says the hub is ready when it logs this.
            await hub.WaitForAsync(output => output.Contains("Application started", StringComparison.Ordinal), "hub start", BuildAndStart);
            Assert.Contains("Now listening on: http://127.0.0.1:5081", hub.Output, StringComparison.Ordinal);

            var script = Path.Combine(dataDirectory, "tour.sh");
            await File.WriteAllTextAsync(script, tour.Script(dataDirectory));
            await using var terminal = Shell.Start([script], new Dictionary<string, string>());
            var exitCode = await terminal.WaitForExitAsync(BuildAndStart);
            var output = terminal.Output;
            Assert.True(exitCode == 0, $"The tour's commands exited with {exitCode}:\n{output}\n--- hub ---\n{hub.Output}");
            var steps = ReadmeTour.SplitOutput(output);
            Assert.Equal([2, 3, 4, 5, 6, 7], steps.Keys.Order());

            // 2. The demo is seeded and its clients' credentials are where the next steps read them.
            Assert.Contains("Demo club club-des-locataires-plaine-commune:", steps[2], StringComparison.Ordinal);
            Assert.Contains("3 clients added", steps[2], StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dataDirectory, "demo-clients.json")));

            // 3. A partner token for the bakery, with its scopes; the token itself is not printed.
            Assert.Contains("\"token_type\": \"Bearer\"", steps[3], StringComparison.Ordinal);
            Assert.Contains("\"scope\": \"hlmhub.redemptions hlmhub.statements hlmhub.offers.read\"", steps[3], StringComparison.Ordinal);
            Assert.DoesNotContain("eyJ", output, StringComparison.Ordinal);

            // 4. Five redemptions: two acknowledged on the broken stream, three resent. A resent event is DUPLICATE when
            // the hub had committed it before the break, ACCEPTED when it had not (the README says so): a race, so
            // either, but accepted once and only once each.
            Assert.Contains("done: 5 of 5 redemptions accepted, in 2 streams", steps[4], StringComparison.Ordinal);
            var acks = Regex.Matches(steps[4], @"^ack \S+-(\d) (ACCEPTED|DUPLICATE \(first answer ACCEPTED\)) discount=120 ", RegexOptions.Multiline);
            Assert.Equal(["1", "2", "3", "4", "5"], acks.Select(ack => ack.Groups[1].Value));
            Assert.All(acks.Take(2), ack => Assert.Equal("ACCEPTED", ack.Groups[2].Value));
            Assert.Contains("resending 3 unacknowledged events", steps[4], StringComparison.Ordinal);

            // 5. The statement is the month's first revision, with its one line.
            Assert.Contains("\"revision\": 1", steps[5], StringComparison.Ordinal);
            Assert.Contains("\"lines\": 1", steps[5], StringComparison.Ordinal);

            // 6. The hub's five redemptions match the statement and the ledger; the demo's fees are accrued and paid.
            Assert.Matches(@"accepted redemptions\s*│\s*5\s*│", steps[6]);
            Assert.Matches(@"purchases \(net\)\s*│\s*60\.00 €\s*│", steps[6]);
            Assert.Matches(@"discounts \(net\)\s*│\s*6\.00 €\s*│", steps[6]);
            Assert.Matches(@"partner statements\s*│\s*1\s*│", steps[6]);
            Assert.Matches(@"discrepancies\s*│\s*0\s*│", steps[6]);

            // 7. Five households saved 6 EUR in all, 1.20 EUR each, at a merchant.
            Assert.Matches(@"│\s*all\s*│\s*5\s*│\s*5\s*│\s*6\.00 €\s*│\s*1\.20 €\s*│", steps[7]);
            Assert.Matches(@"│\s*merchant\s*│\s*5\s*│\s*5\s*│\s*6\.00 €\s*│", steps[7]);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    /// <summary>The tour uses the hub's default ports: a hub already running there would answer instead.</summary>
    private static void RequireFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException exception)
        {
            Assert.Fail($"Port {port} is in use ({exception.SocketErrorCode}): the README's tour runs the hub on its default ports; stop whatever listens there.");
        }
    }
}
