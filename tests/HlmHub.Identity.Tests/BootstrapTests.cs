using System.Net;
using System.Text.Json;
using HlmHub.Identity.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

public sealed class BootstrapTests
{
    [Fact]
    public async Task FirstStart_WritesAdminCredentialsOwnerOnly_AndTheyWork()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var path = Path.Combine(host.DataDirectory, "bootstrap-admin.json");

        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var clientId = document.RootElement.GetProperty("client_id").GetString()!;
        var secret = document.RootElement.GetProperty("client_secret").GetString()!;
        Assert.Equal(host.TokenEndpoint, document.RootElement.GetProperty("token_endpoint").GetString());

        var token = new JsonWebToken(await host.GetTokenAsync(new RegisteredClient(clientId, secret)));

        Assert.Equal("admin", token.GetPayloadValue<string>("hlmhub_kind"));
        Assert.False(token.TryGetPayloadValue<string>("hlmhub_club", out _));
        Assert.Equal("hlmhub.admin", token.GetPayloadValue<string>("scope"));
        var created = Assert.Single(host.Logs, r => r.EventId.Id == IdentityEventIds.BootstrapAdminCreated);
        Assert.Contains(path, created.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs, r => r.Message.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CredentialsThatCannotBeWritten_FailTheStart_RegisteringNoOne_AndTheNextStartBootstraps()
    {
        var dataDirectory = IssuerTestHost.NewDataDirectory();
        var path = Path.Combine(dataDirectory, BootstrapAdmin.FileName);
        Directory.CreateDirectory(path);

        var failed = await Assert.ThrowsAnyAsync<Exception>(() => IssuerTestHost.StartAsync(dataDirectory: dataDirectory));
        Assert.Contains(path, failed.Message, StringComparison.Ordinal);
        Directory.Delete(path);
        await using var host = await IssuerTestHost.StartAsync(dataDirectory: dataDirectory);

        // Had the first start registered its administrator, this one would have found it and written no file.
        var admin = BootstrapAdmin.Read(dataDirectory);
        Assert.Equal(admin.ClientId, Assert.Single(await host.Registry.ListAsync(0, 10, CancellationToken.None)).ClientId);
        Assert.Equal("admin", new JsonWebToken(await host.GetTokenAsync(new RegisteredClient(admin.ClientId, admin.Secret))).GetPayloadValue<string>("hlmhub_kind"));
        Assert.Empty(Directory.GetFiles(dataDirectory, "*.tmp"));
    }

    [Fact]
    public async Task SecondStart_WithAnAdmin_CreatesNoOther()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-identity-tests", Guid.NewGuid().ToString("N"));
        await using (await IssuerTestHost.StartAsync(dataDirectory: dataDirectory))
        {
        }
        var path = Path.Combine(dataDirectory, BootstrapAdmin.FileName);
        var first = BootstrapAdmin.Read(dataDirectory);
        File.Delete(path);

        await using var host = await IssuerTestHost.StartAsync(dataDirectory: dataDirectory);

        Assert.False(File.Exists(path));
        Assert.DoesNotContain(host.Logs, r => r.EventId.Id == IdentityEventIds.BootstrapAdminCreated);
        var token = await host.GetTokenAsync(new RegisteredClient(first.ClientId, first.Secret));
        Assert.Equal("admin", new JsonWebToken(token).GetPayloadValue<string>("hlmhub_kind"));
        Assert.Single(await host.Registry.ListAsync(0, 10, CancellationToken.None));
    }
}
