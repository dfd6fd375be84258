using System.Text.Json;
using HlmHub.Cli.Tests.Infrastructure;

namespace HlmHub.Cli.Tests;

/// <summary>
/// <c>hlmhub demo seed</c> when the hub no longer holds a demo client's secret (its own <c>demo-clients.json</c> was
/// deleted) or holds an older one (the secret was rotated): the CLI's credentials file never loses a secret, the run
/// names what is missing and the repair, and that repair works. A hub of its own: these tests delete the hub's file
/// and rotate the demo clients' secrets, which the other classes' demo credentials must survive.
/// </summary>
public sealed class DemoCredentialsTests(HubFixture hub) : IClassFixture<HubFixture>
{
    private const string Bakery = "demo-partner-bakery";
    private const string Landlord = "demo-landlord-plaine-commune";
    private const string ClubAdmin = "demo-club-admin";

    [Fact]
    public async Task DemoSeed_AfterTheHubLostItsFile_KeepsTheGoodFile_Exits5_AndTheRepairItNamesWorks()
    {
        var before = ReadSecrets(hub.DemoCredentialsPath);
        Assert.Equal(3, before.Count);
        File.Delete(hub.HubDemoCredentialsPath);

        var lost = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed");

        Assert.True(lost.ExitCode == 5, lost.ToString());
        var line = Assert.Single(lost.ErrorLines);
        Assert.Contains($"the hub no longer holds the secrets of demo clients {Bakery}, {Landlord}, {ClubAdmin}", line, StringComparison.Ordinal);
        Assert.Contains(
            $"hlmhub clients rotate-secret {Bakery} && hlmhub clients rotate-secret {Landlord} && hlmhub clients rotate-secret {ClubAdmin} && hlmhub demo seed",
            line, StringComparison.Ordinal);
        // The only copy of the secrets is not replaced by an empty list: every entry is still there, unchanged.
        Assert.Equal(before, ReadSecrets(hub.DemoCredentialsPath));
        Assert.True((await hub.RunAsync(hub.As((ClubAdmin, before[ClubAdmin])), "ledger", "balances", "--club", "club-des-locataires-plaine-commune")).ExitCode == 0);

        // One client repaired: the hub keeps its new secret and the next seed hands it back; the others are still named.
        var clubAdminSecret = await RotateAsync(ClubAdmin);
        var partly = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed");

        Assert.True(partly.ExitCode == 5, partly.ToString());
        line = Assert.Single(partly.ErrorLines);
        Assert.Contains($"demo clients {Bakery}, {Landlord} (", line, StringComparison.Ordinal);
        Assert.DoesNotContain(ClubAdmin, line, StringComparison.Ordinal);
        var after = ReadSecrets(hub.DemoCredentialsPath);
        Assert.Equal(clubAdminSecret, after[ClubAdmin]);
        Assert.Equal((before[Bakery], before[Landlord]), (after[Bakery], after[Landlord]));
        var withNew = await hub.RunAsync(hub.As((ClubAdmin, after[ClubAdmin])), "ledger", "balances", "--club", "club-des-locataires-plaine-commune");
        Assert.True(withNew.ExitCode == 0, withNew.ToString());

        var bakerySecret = await RotateAsync(Bakery);
        var landlordSecret = await RotateAsync(Landlord);
        var repaired = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed");

        Assert.True(repaired.ExitCode == 0, repaired.ToString());
        Assert.Empty(repaired.ErrorLines);
        Assert.Equal(
            new Dictionary<string, string> { [Bakery] = bakerySecret, [Landlord] = landlordSecret, [ClubAdmin] = clubAdminSecret },
            ReadSecrets(hub.DemoCredentialsPath));
        Assert.Equal(ReadSecrets(hub.DemoCredentialsPath), ReadSecrets(hub.HubDemoCredentialsPath));
    }

    [Fact]
    public async Task DemoSeed_AfterRotateSecretOfADemoClient_HandsBackTheNewSecret_NotTheDeadOne()
    {
        var oldSecret = ReadSecrets(hub.HubDemoCredentialsPath)[Bakery];
        var newSecret = await RotateAsync(Bakery);

        var seeded = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed", "--credentials-file", "after-rotation.json");

        Assert.True(seeded.ExitCode == 0, seeded.ToString());
        Assert.Equal(newSecret, ReadSecrets(Path.Combine(hub.WorkDirectory, "after-rotation.json"))[Bakery]);
        // The token endpoint accepts the new secret (and refuses only the admin scope the CLI asks for, which a partner
        // does not have); the old one is refused as a wrong secret.
        var withNew = await hub.RunAsync(hub.As((Bakery, newSecret)), "clients", "list");
        Assert.Contains("invalid_scope", Assert.Single(withNew.ErrorLines), StringComparison.Ordinal);
        var withOld = await hub.RunAsync(hub.As((Bakery, oldSecret)), "clients", "list");
        Assert.Contains("invalid_client", Assert.Single(withOld.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoSeed_IntoAFileThatIsNotADemoCredentialsFile_Exits2_AndLeavesItAlone()
    {
        var path = Path.Combine(hub.WorkDirectory, "notes.json");
        await File.WriteAllTextAsync(path, "my own notes, not JSON");

        var result = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed", "--credentials-file", "notes.json");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("is not a demo credentials file", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Equal("my own notes, not JSON", await File.ReadAllTextAsync(path));
    }

    /// <summary>Gives a demo client a new secret with <c>hlmhub clients rotate-secret</c> (exit 0 asserted); the secret it printed.</summary>
    private async Task<string> RotateAsync(string clientId)
    {
        var rotated = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", clientId);
        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        return rotated.ShownSecret;
    }

    /// <summary>The secrets a demo credentials file holds, by client id.</summary>
    private static Dictionary<string, string> ReadSecrets(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("clients").EnumerateArray().ToDictionary(
            client => client.GetProperty("client_id").GetString()!, client => client.GetProperty("client_secret").GetString()!);
    }
}
