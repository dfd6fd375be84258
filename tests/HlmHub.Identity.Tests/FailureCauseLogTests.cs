using HlmHub.Identity.ResourceServer;
using HlmHub.Identity.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HlmHub.Identity.Tests;

/// <summary>
/// Events 3009 (an issuer's discovery or JWKS could not be read) and 3013 (the disabled clients could not be read) name
/// their cause, so an operator can tell a refused connection from a 404 or a missing table; never the token.
/// </summary>
public sealed class FailureCauseLogTests
{
    [Fact]
    public async Task AnIssuerWhoseDiscoveryIsNotFound_IsLoggedWithItsHttpStatus()
    {
        await using var stranger = await MiniIssuer.StartAsync();
        // The stranger serves no discovery document under this path: its answer is a 404.
        var authority = stranger.Issuer.TrimEnd('/') + "/missing";
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?> { ["Auth:TrustedIssuers:0:Authority"] = authority });
        hub.ExpectErrorLog(r => r.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        var claims = stranger.Claims("hlmhub", "x", "partner", "maaf", scope: "hlmhub.test");
        claims["iss"] = authority;
        var token = stranger.Sign(claims);

        await hub.CallFailsAsync("WhoAmI", token);

        var logged = hub.Logs.First(r => r.EventId.Id == IdentityEventIds.IssuerMetadataUnavailable).Message;
        Assert.True(logged.Contains("IOException (HTTP 404): IDX20807", StringComparison.Ordinal), logged);
        Assert.DoesNotContain(token, logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIssuerThatRefusesTheConnection_IsLoggedAsARefusedConnection()
    {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        await using var hub = await IdentityTestHost.StartAsync(new Dictionary<string, string?> { ["Auth:TrustedIssuers:0:Authority"] = "http://127.0.0.1:9" });
        hub.ExpectErrorLog(r => r.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        await using var stranger = await MiniIssuer.StartAsync();
        var claims = stranger.Claims("hlmhub", "x", "partner", "maaf", scope: "hlmhub.test");
        claims["iss"] = "http://127.0.0.1:9";
        var token = stranger.Sign(claims);

        await hub.CallFailsAsync("WhoAmI", token);

        var logged = hub.Logs.First(r => r.EventId.Id == IdentityEventIds.IssuerMetadataUnavailable).Message;
        Assert.True(logged.Contains("HttpRequestException (ConnectionError) > SocketException: Connection refused", StringComparison.Ordinal), logged);
        Assert.DoesNotContain(token, logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisabledClientsThatCannotBeRead_AreLoggedWithTheDatabasesMessage()
    {
        await using var hub = await IdentityTestHost.StartAsync();
        // EF Core logs the failed query as an error of its own.
        hub.ExpectErrorLog(r => r.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
        var refresher = hub.Services.GetServices<IHostedService>().OfType<RevokedClientTokensRefresher>().Single();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(hub.DataDirectory, "hlmhub.db")}"))
        {
            await connection.OpenAsync();
            await using var rename = connection.CreateCommand();
            rename.CommandText = "ALTER TABLE \"OpenIddictApplications\" RENAME TO \"Elsewhere\"";
            await rename.ExecuteNonQueryAsync();
        }

        var read = await refresher.RefreshAsync(CancellationToken.None);

        Assert.False(read);
        var logged = hub.Logs.First(r => r.EventId.Id == IdentityEventIds.DisabledClientsUnreadable).Message;
        Assert.Contains("SqliteException", logged, StringComparison.Ordinal);
        Assert.Contains("no such table: OpenIddictApplications", logged, StringComparison.Ordinal);
    }
}
