using System.Text.Json;
using Grpc.Core;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

public sealed class KeyRotationTests
{
    private static async Task<List<string>> PublishedKeyIdsAsync(IdentityTestHost host)
    {
        using var jwks = JsonDocument.Parse(await host.Http.GetStringAsync(IdentityEndpointPaths.Jwks).DefaultTimeout());
        return jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    [Fact]
    public async Task TokenSignedBeforeRotation_KeepsWorkingUntilItExpires()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var before = await host.GetTokenAsync(client);

        var newKeyId = await host.Services.GetRequiredService<ISigningKeyRotation>().RotateNowAsync(CancellationToken.None).DefaultTimeout();
        var after = await host.GetTokenAsync(client);

        var oldKeyId = new JsonWebToken(before).Kid;
        Assert.NotEqual(oldKeyId, newKeyId);
        Assert.Equal(newKeyId, new JsonWebToken(after).Kid);
        Assert.Equal([oldKeyId, newKeyId], await PublishedKeyIdsAsync(host));
        Assert.Equal(client.ClientId, (await host.CallAsync("WhoAmI", before)).ClientId);
        Assert.Equal(client.ClientId, (await host.CallAsync("WhoAmI", after)).ClientId);

        // Ten minutes on (past the validated-token cache): the old key still verifies the old token.
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(client.ClientId, (await host.CallAsync("WhoAmI", before)).ClientId);

        // Past its 15 minutes and the skew: expired, and its key has left the JWKS.
        host.Clock.Advance(TimeSpan.FromMinutes(6));
        var expired = await host.CallFailsAsync("WhoAmI", before);
        Assert.Equal(StatusCode.Unauthenticated, expired.StatusCode);
        Assert.Contains("expired", expired.Detail, StringComparison.Ordinal);
        var fresh = await host.GetTokenAsync(client);
        Assert.Equal(client.ClientId, (await host.CallAsync("WhoAmI", fresh)).ClientId);
        Assert.Equal([newKeyId], await PublishedKeyIdsAsync(host));
    }

    [Fact]
    public async Task ScheduledRotation_AnnouncesTheNextKeyBeforeItSigns()
    {
        await using var host = await IdentityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:KeyRotationInterval"] = "01:00:00",
            ["Auth:EmbeddedIssuer:KeyAnnouncementLead"] = "00:10:00",
        });
        var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var first = new JsonWebToken(await host.GetTokenAsync(client)).Kid;
        Assert.Equal([first], await PublishedKeyIdsAsync(host));

        // 51 minutes in: the next key is published but the current one still signs.
        host.Clock.Advance(TimeSpan.FromMinutes(51));
        var announced = await PublishedKeyIdsAsync(host);
        Assert.Equal(2, announced.Count);
        var next = announced.Single(k => k != first);
        Assert.Equal(first, new JsonWebToken(await host.GetTokenAsync(client)).Kid);

        // An hour in: the next key signs; the first stays published for the tokens it signed.
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(next, new JsonWebToken(await host.GetTokenAsync(client)).Kid);
        Assert.Contains(first, await PublishedKeyIdsAsync(host));

        // Once the last token the first key signed has expired, the first key is gone.
        host.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.DoesNotContain(first, await PublishedKeyIdsAsync(host));
    }

    [Fact]
    public async Task KeyCreatedByAnotherInstance_IsFoundByOneRefreshOnTheFirstTokenItSigned()
    {
        // Two hubs on one database with one issuer name, as behind a load balancer.
        var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-identity-tests", Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Auth:Issuer"] = "https://hub.example" };
        await using var first = await IdentityTestHost.StartAsync(settings, dataDirectory);
        await using var second = await IdentityTestHost.StartAsync(settings, dataDirectory);
        var client = await first.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        Assert.Equal(client.ClientId, (await second.CallAsync("WhoAmI", await first.GetTokenAsync(client))).ClientId);

        // The first hub rotates: the second still holds the old key set in its one-minute cache.
        var newKeyId = await first.Services.GetRequiredService<ISigningKeyRotation>().RotateNowAsync(CancellationToken.None).DefaultTimeout();
        var signedWithNewKey = await first.GetTokenAsync(client);
        Assert.Equal(newKeyId, new JsonWebToken(signedWithNewKey).Kid);

        var reply = await second.CallAsync("WhoAmI", signedWithNewKey);

        Assert.Equal(client.ClientId, reply.ClientId);
    }

    [Fact]
    public async Task SigningKeys_ArePersistedAcrossRestarts()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "hlmhub-identity-tests", Guid.NewGuid().ToString("N"));
        string keyId;
        await using (var first = await IdentityTestHost.StartAsync(dataDirectory: dataDirectory))
        {
            keyId = Assert.Single(await PublishedKeyIdsAsync(first));
        }
        await using var second = await IdentityTestHost.StartAsync(dataDirectory: dataDirectory);

        Assert.Equal([keyId], await PublishedKeyIdsAsync(second));
    }
}
