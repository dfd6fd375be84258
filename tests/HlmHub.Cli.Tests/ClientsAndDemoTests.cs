using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Cli.Tests.Infrastructure;

namespace HlmHub.Cli.Tests;

/// <summary>
/// <c>hlmhub clients</c>, <c>demo seed</c> and <c>payments record</c> against a real hub process: each command's
/// output and exit code, and that the credentials it hands out really work (or really stop working).
/// </summary>
public sealed class ClientsAndDemoTests(HubFixture hub) : IClassFixture<HubFixture>
{
    [Fact]
    public async Task DemoSeed_WritesWorkingCredentialsOwnerOnly_AndASecondRunAddsNothing()
    {
        var first = hub.DemoSeed!;
        Assert.Contains("3 clients added", first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(hub.DemoClients["club_admin"].Secret, first.Output + first.Error, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(hub.DemoCredentialsPath));
        }

        var again = await hub.RunAsync(hub.As(hub.HubAdmin), "demo", "seed", "--credentials-file", "again.json");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("0 records and 0 clients added", again.Output, StringComparison.Ordinal);
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(hub.WorkDirectory, "again.json")));
        var clubAdmin = file.RootElement.GetProperty("clients").EnumerateArray().Single(client => client.GetProperty("role").GetString() == "club_admin");
        Assert.Equal(hub.DemoClients["club_admin"].Secret, clubAdmin.GetProperty("client_secret").GetString());

        // The club administrator's credentials are real: it may record a payment in its club.
        var payment = await hub.RunAsync(hub.As(hub.DemoClients["club_admin"]), "payments", "record",
            "--contract", "club-des-locataires-plaine-commune-auto-ecole-du-canal", "--reference", "VIR-DEMO-1", "--amount", "100.00");
        Assert.True(payment.ExitCode == 0, payment.ToString());
    }

    [Fact]
    public async Task DemoSeed_ByAClubAdministrator_Exits3()
    {
        var result = await hub.RunAsync(hub.As(hub.DemoClients["club_admin"]), "demo", "seed", "--credentials-file", "refused.json");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Single(result.ErrorLines);
        Assert.False(File.Exists(Path.Combine(hub.WorkDirectory, "refused.json")));
    }

    [Fact]
    public async Task ClientsList_AsCsv_TurnsATextCellAFormulaWouldRunIntoText()
    {
        var added = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "add", "--kind", "partner", "--name", "=HYPERLINK(\"http://x.example\")",
            "--partner", "boulangerie-de-la-place", "--scope", "hlmhub.offers.read", "--id", "formula-till");
        Assert.True(added.ExitCode == 0, added.ToString());

        var csv = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list", "--format", "csv");
        var json = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list", "--format", "json");

        var row = Assert.Single(Csv.Parse(csv.Output), fields => fields[0] == "formula-till");
        Assert.Equal("'=HYPERLINK(\"http://x.example\")", row[2]);
        // JSON is data, not a spreadsheet: the name as given.
        using var document = JsonDocument.Parse(json.Output);
        Assert.Contains(document.RootElement.EnumerateArray(), client => client.GetProperty("display_name").GetString() == "=HYPERLINK(\"http://x.example\")");
    }

    [Fact]
    public async Task ClientsAdd_ThenList_AsCsvAndJson_ShowTheClientWithoutItsSecret()
    {
        var added = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "add", "--kind", "partner", "--name", "Bakery till",
            "--partner", "boulangerie-de-la-place", "--scope", "hlmhub.redemptions", "--scope", "hlmhub.offers.read", "--id", "bakery-till-1");
        Assert.True(added.ExitCode == 0, added.ToString());
        var secret = added.ShownSecret;

        var csv = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list", "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.ToString());
        var rows = Csv.Parse(csv.Output);
        Assert.Equal(["client_id", "kind", "display_name", "bound_to", "scopes", "credential", "created_at", "disabled_at"], rows[0]);
        var row = Assert.Single(rows, fields => fields[0] == "bakery-till-1");
        Assert.Equal(["bakery-till-1", "partner", "Bakery till", "partner boulangerie-de-la-place", "hlmhub.redemptions hlmhub.offers.read", "secret"], row[..6]);
        Assert.DoesNotContain(secret, csv.Output, StringComparison.Ordinal);

        var json = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list", "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Output);
        var client = document.RootElement.EnumerateArray().Single(element => element.GetProperty("client_id").GetString() == "bakery-till-1");
        Assert.Equal("partner", client.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, client.GetProperty("disabled_at").ValueKind);
        AssertIsoInstant(client.GetProperty("created_at").GetString());
        AssertIsoInstant(row[6]);

        var table = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "list");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("bakery-till-1", table.Output, StringComparison.Ordinal);
        Assert.Contains("Bootstrap hub administrator", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotateSecret_GivesANewSecretThatWorks_AndTheOldOneStops()
    {
        var oldSecret = await AddAdminAsync("rotated-admin", "Rotated admin", "--club", "club-des-locataires-plaine-commune");
        var before = await hub.RunAsync(hub.As(("rotated-admin", oldSecret)), "payments", "record",
            "--contract", "club-des-locataires-plaine-commune-boulangerie-de-la-place", "--reference", "VIR-ROT-0", "--amount", "50");
        Assert.True(before.ExitCode == 0, before.ToString());

        var rotated = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", "rotated-admin", "--secret-file", "rotated.json");

        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        Assert.DoesNotContain("client_secret", rotated.Output, StringComparison.Ordinal);
        var path = Path.Combine(hub.WorkDirectory, "rotated.json");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var newSecret = file.RootElement.GetProperty("client_secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);
        var payment = new[] { "payments", "record", "--contract", "club-des-locataires-plaine-commune-boulangerie-de-la-place", "--reference", "VIR-ROT-1", "--amount", "50" };

        var withOld = await hub.RunAsync(hub.As(("rotated-admin", oldSecret)), payment);
        Assert.True(withOld.ExitCode == 3, withOld.ToString());
        Assert.Contains("invalid_client", Assert.Single(withOld.ErrorLines), StringComparison.Ordinal);

        var withNew = await hub.RunAsync(hub.As(("rotated-admin", newSecret)), payment);
        Assert.True(withNew.ExitCode == 0, withNew.ToString());
    }

    [Fact]
    public async Task ASecretFileThatCannotBeWritten_Exits2_BeforeTheHubIssuesASecret_AndAnOlderFileIsReplacedWhole()
    {
        var oldSecret = await AddAdminAsync("kept-admin", "Kept admin");
        // A regular file where a directory should be: unwritable whoever runs the test (root included).
        await File.WriteAllTextAsync(Path.Combine(hub.WorkDirectory, "not-a-directory"), "");

        var rotate = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", "kept-admin", "--secret-file", "not-a-directory/kept.json");
        var add = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "add", "--kind", "admin", "--name", "Never added",
            "--scope", "hlmhub.admin", "--id", "never-added", "--secret-file", "not-a-directory/never.json");

        Assert.True(rotate.ExitCode == 2, rotate.ToString());
        Assert.Contains("cannot write", Assert.Single(rotate.ErrorLines), StringComparison.Ordinal);
        Assert.True(add.ExitCode == 2, add.ToString());
        // The hub was not asked: the old secret still works, and the client was not registered.
        var list = await hub.RunAsync(hub.As(("kept-admin", oldSecret)), "clients", "list", "--format", "csv");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain(Csv.Parse(list.Output), fields => fields[0] == "never-added");

        var path = Path.Combine(hub.WorkDirectory, "kept.json");
        await File.WriteAllTextAsync(path, "an older file");
        var replaced = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", "kept-admin", "--secret-file", "kept.json");

        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var newSecret = file.RootElement.GetProperty("client_secret").GetString()!;
        Assert.True((await hub.RunAsync(hub.As(("kept-admin", newSecret)), "clients", "list")).ExitCode == 0);
        Assert.Empty(Directory.GetFiles(hub.WorkDirectory, "*.tmp"));
    }

    // The file was writable when the CLI checked, before asking the hub; the write after the call failed (here no
    // byte can be written, as on a full disk): the secret the hub issued must not be lost with the file.
    [Fact]
    public async Task ASecretFileWhoseWriteFailsAfterTheCall_Exits2_AndShowsTheIssuedSecretOnStandardError()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var oldSecret = await AddAdminAsync("full-disk-admin", "Full disk admin");

        var rotate = await CliProcess.RunWithNoFileSpaceAsync(hub.As(hub.HubAdmin), hub.WorkDirectory,
            "clients", "rotate-secret", "full-disk-admin", "--secret-file", "full-disk.json");
        var add = await CliProcess.RunWithNoFileSpaceAsync(hub.As(hub.HubAdmin), hub.WorkDirectory,
            "clients", "add", "--kind", "admin", "--name", "Added on a full disk", "--scope", "hlmhub.admin", "--id", "full-disk-added", "--secret-file", "full-disk-added.json");

        foreach (var (result, clientId) in new[] { (rotate, "full-disk-admin"), (add, "full-disk-added") })
        {
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains("cannot write", result.ErrorLines[0], StringComparison.Ordinal);
            Assert.Contains($"client_id: {clientId}", result.ErrorLines, StringComparer.Ordinal);
            Assert.DoesNotContain("client_secret", result.Output, StringComparison.Ordinal);
            var secret = Assert.Single(result.ErrorLines, line => line.StartsWith("client_secret: ", StringComparison.Ordinal))["client_secret: ".Length..];
            Assert.NotEqual(oldSecret, secret);
            var list = await hub.RunAsync(hub.As((clientId, secret)), "clients", "list", "--format", "csv");
            Assert.True(list.ExitCode == 0, list.ToString());
        }
    }

    [Fact]
    public async Task RotateSecret_OfAnUnknownClient_Exits5()
    {
        var result = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", "nobody-here");

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("nobody-here", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disable_StopsTheClientsNextToken()
    {
        var secret = await AddAdminAsync("short-lived-admin", "Short-lived admin");
        Assert.Equal(0, (await hub.RunAsync(hub.As(("short-lived-admin", secret)), "clients", "list", "--format", "csv")).ExitCode);

        var disabled = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "disable", "short-lived-admin");

        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        Assert.Contains("Disabled client short-lived-admin", disabled.Output, StringComparison.Ordinal);
        var after = await hub.RunAsync(hub.As(("short-lived-admin", secret)), "clients", "list");
        Assert.True(after.ExitCode == 3, after.ToString());
        var rotate = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "rotate-secret", "short-lived-admin");
        Assert.True(rotate.ExitCode == 5, rotate.ToString());
        Assert.Contains("disabled", Assert.Single(rotate.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APublicKeyClient_AuthenticatesWithItsKeyFile()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var publicJwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64Url(parameters.Q.X!),
            ["y"] = Base64Url(parameters.Q.Y!),
            ["use"] = "sig",
        });
        await File.WriteAllTextAsync(Path.Combine(hub.WorkDirectory, "ops.jwk.json"), publicJwk);
        await File.WriteAllTextAsync(Path.Combine(hub.WorkDirectory, "ops.key.pem"), key.ExportPkcs8PrivateKeyPem());
        var added = await hub.RunAsync(hub.As(hub.HubAdmin), "clients", "add", "--kind", "admin", "--name", "Ops with a key",
            "--scope", "hlmhub.admin", "--id", "ops-key-admin", "--public-key-file", "ops.jwk.json");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains("private_key_jwt", added.Output, StringComparison.Ordinal);

        var environment = hub.As(("ops-key-admin", ""));
        environment.Remove("HLMHUB_CLIENT_SECRET");
        environment["HLMHUB_KEY_FILE"] = "ops.key.pem";
        var result = await hub.RunAsync(environment, "clients", "list", "--format", "csv");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("ops-key-admin,admin,Ops with a key,hub,hlmhub.admin,public key", result.Output, StringComparison.Ordinal);

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(Path.Combine(hub.WorkDirectory, "wrong.key.pem"), other.ExportPkcs8PrivateKeyPem());
        environment["HLMHUB_KEY_FILE"] = "wrong.key.pem";
        var wrongKey = await hub.RunAsync(environment, "clients", "list");
        Assert.True(wrongKey.ExitCode == 3, wrongKey.ToString());
        Assert.Single(wrongKey.ErrorLines);
    }

    [Fact]
    public async Task PaymentsRecord_PaidAtWithNoOffset_IsReadOnAClockInParis()
    {
        // 23:30 on 31 October in Paris is October's; read as UTC it would be 00:30 on 1 November in Paris.
        var late = await hub.RunAsync(hub.As(hub.HubAdmin), "payments", "record", "--contract", "club-des-locataires-plaine-commune-plomberie-saint-denis",
            "--reference", "VIR-2026-1031", "--amount", "10", "--paid-at", "2026-10-31T23:30", "--format", "json");

        Assert.True(late.ExitCode == 0, late.ToString());
        using var json = JsonDocument.Parse(late.Output);
        Assert.Equal("2026-10", Assert.Single(json.RootElement.EnumerateArray().ToList()).GetProperty("period").GetString());
    }

    [Fact]
    public async Task PaymentsRecord_PrintsTheBooking_AndARetryIsAlreadyRecorded()
    {
        string[] payment = ["payments", "record", "--contract", "club-des-locataires-plaine-commune-plomberie-saint-denis",
            "--reference", "VIR-2026-0042", "--amount", "1000", "--paid-at", "2026-10-15T10:00:00+02:00"];

        var first = await hub.RunAsync(hub.As(hub.HubAdmin), [.. payment, "--format", "json"]);
        var retry = await hub.RunAsync(hub.As(hub.HubAdmin), payment);

        Assert.True(first.ExitCode == 0, first.ToString());
        using var json = JsonDocument.Parse(first.Output);
        var booked = Assert.Single(json.RootElement.EnumerateArray().ToList());
        Assert.Equal(100_000, booked.GetProperty("amount_cents").GetInt64());
        Assert.Equal("2026-10", booked.GetProperty("period").GetString());
        Assert.Equal("plomberie-saint-denis", booked.GetProperty("partner_id").GetString());
        Assert.False(booked.GetProperty("already_recorded").GetBoolean());
        AssertIsoInstant(booked.GetProperty("recorded_at").GetString());
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("already recorded", retry.Output, StringComparison.Ordinal);
        Assert.Contains("1,000.00 €", retry.Output, StringComparison.Ordinal);
        Assert.Contains(booked.GetProperty("transaction_id").GetString()!, retry.Output, StringComparison.Ordinal);
    }

    /// <summary>Adds an administrator client with <c>hlmhub clients add</c> (exit 0 asserted); the secret it printed.</summary>
    private async Task<string> AddAdminAsync(string clientId, string name, params string[] binding)
    {
        var added = await hub.RunAsync(hub.As(hub.HubAdmin), ["clients", "add", "--kind", "admin", "--name", name, "--scope", "hlmhub.admin", "--id", clientId, .. binding]);
        Assert.True(added.ExitCode == 0, added.ToString());
        return added.ShownSecret;
    }

    /// <summary>An instant as docs/cli.md promises every format: UTC ISO 8601, date and time joined by 'T'.</summary>
    private static void AssertIsoInstant(string? text)
    {
        Assert.NotNull(text);
        Assert.Contains("T", text, StringComparison.Ordinal);
        Assert.True(
            DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var instant)
                && instant.Offset == TimeSpan.Zero,
            $"Not a UTC ISO 8601 instant: '{text}'");
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
