using System.Security.Cryptography;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Tests;

/// <summary>Signing keys: rotated as announced, kept encrypted, shared across restarts, revocable after a leak.</summary>
public sealed class KeyRotationTests
{
    private static ClientRegistration Maaf => new(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf");

    [Fact]
    public async Task TokenSignedBeforeRotation_StaysValidAgainstTheJwksUntilItExpires()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Maaf);
        var before = await host.GetTokenAsync(client);

        var newKeyId = await host.Services.GetRequiredService<ISigningKeyRotation>().RotateNowAsync(CancellationToken.None).DefaultTimeout();
        var after = await host.GetTokenAsync(client);

        var oldKeyId = new JsonWebToken(before).Kid;
        Assert.NotEqual(oldKeyId, newKeyId);
        Assert.Equal(newKeyId, new JsonWebToken(after).Kid);
        Assert.Equal([oldKeyId, newKeyId], await host.PublishedKeyIdsAsync());
        Assert.True((await host.ValidateAsync(before)).IsValid);
        Assert.True((await host.ValidateAsync(after)).IsValid);

        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.True((await host.ValidateAsync(before)).IsValid);

        // Past its 15 minutes and the skew: expired, and its key has left the JWKS.
        host.Clock.Advance(TimeSpan.FromMinutes(6));
        Assert.False((await host.ValidateAsync(before)).IsValid);
        var fresh = await host.GetTokenAsync(client);
        Assert.True((await host.ValidateAsync(fresh)).IsValid);
        Assert.Equal([newKeyId], await host.PublishedKeyIdsAsync());
    }

    [Fact]
    public async Task ScheduledRotation_AnnouncesTheNextKeyBeforeItSigns()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:KeyRotationInterval"] = "01:00:00",
            ["Auth:EmbeddedIssuer:KeyAnnouncementLead"] = "00:10:00",
        });
        var client = await host.RegisterAsync(Maaf);
        var first = new JsonWebToken(await host.GetTokenAsync(client)).Kid;
        Assert.Equal([first], await host.PublishedKeyIdsAsync());

        // 51 minutes in: the next key is published but the current one still signs.
        host.Clock.Advance(TimeSpan.FromMinutes(51));
        var announced = await host.PublishedKeyIdsAsync();
        Assert.Equal(2, announced.Count);
        var next = announced.Single(k => k != first);
        Assert.Equal(first, new JsonWebToken(await host.GetTokenAsync(client)).Kid);

        // An hour in: the next key signs; the first stays published for the tokens it signed.
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(next, new JsonWebToken(await host.GetTokenAsync(client)).Kid);
        Assert.Contains(first, await host.PublishedKeyIdsAsync());

        // Once the last token the first key signed has expired, the first key is gone.
        host.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.DoesNotContain(first, await host.PublishedKeyIdsAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KeyReplacedWhileTheNextIsAnnounced_ItsReplacementRetiresWhenTheNextTakesOver(bool revoke)
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:KeyRotationInterval"] = "01:00:00",
            ["Auth:EmbeddedIssuer:KeyAnnouncementLead"] = "00:10:00",
        });
        var client = await host.RegisterAsync(Maaf);
        var first = new JsonWebToken(await host.GetTokenAsync(client)).Kid;
        host.Clock.Advance(TimeSpan.FromMinutes(51));
        var next = (await host.PublishedKeyIdsAsync()).Single(k => k != first);

        // The signing key is replaced in the last ten minutes, while the next key is already announced.
        var rotation = host.Services.GetRequiredService<ISigningKeyRotation>();
        if (revoke)
        {
            Assert.True(await rotation.RevokeAsync(first, CancellationToken.None).DefaultTimeout());
        }
        else
        {
            await rotation.RotateNowAsync(CancellationToken.None).DefaultTimeout();
        }
        var replacementToken = await host.GetTokenAsync(client);
        var replacement = new JsonWebToken(replacementToken).Kid;
        Assert.NotEqual(first, replacement);
        Assert.NotEqual(next, replacement);

        // The announced key takes over on schedule; the replacement stays published for the tokens it signed.
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(next, new JsonWebToken(await host.GetTokenAsync(client)).Kid);
        Assert.True((await host.ValidateAsync(replacementToken)).IsValid);

        // Once they have expired (15 minutes and the skew), the replacement leaves the JWKS and the database.
        host.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal([next], await host.PublishedKeyIdsAsync());
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        Assert.Equal([next], await db.SigningKeys.Select(k => k.KeyId).ToListAsync());
    }

    [Fact]
    public async Task KeyStoredWithoutRetirementBesideALaterKey_IsRetiredAtTheNextRefresh()
    {
        await using var host = await IssuerTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:KeyRotationInterval"] = "01:00:00",
            ["Auth:EmbeddedIssuer:KeyAnnouncementLead"] = "00:10:00",
        });
        var client = await host.RegisterAsync(Maaf);
        var first = new JsonWebToken(await host.GetTokenAsync(client)).Kid;
        host.Clock.Advance(TimeSpan.FromMinutes(51));
        var next = (await host.PublishedKeyIdsAsync()).Single(k => k != first);
        var replacement = await host.Services.GetRequiredService<ISigningKeyRotation>().RotateNowAsync(CancellationToken.None).DefaultTimeout();
        host.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal([replacement, next], await host.PublishedKeyIdsAsync());

        // The replacement's row as earlier versions of the hub left it: never retired although the next key signs.
        // Nothing else is due (no key to purge, no key to announce), so only the repair itself makes a change.
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync())
        {
            await db.SigningKeys.Where(k => k.KeyId == replacement)
                .ExecuteUpdateAsync(update => update.SetProperty(k => k.RetiresAt, (DateTimeOffset?)null).SetProperty(k => k.ExpiresAt, (DateTimeOffset?)null));
        }

        // Retired as of the handover, so gone once the tokens it signed until then have expired.
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal([next], await host.PublishedKeyIdsAsync());
        Assert.Equal(next, new JsonWebToken(await host.GetTokenAsync(client)).Kid);
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
    public async Task SigningKeys_AreStoredEncrypted_AndPersistAcrossRestarts()
    {
        var dataDirectory = IssuerTestHost.NewDataDirectory();
        string keyId;
        string token;
        await using (var first = await IssuerTestHost.StartAsync(dataDirectory: dataDirectory))
        {
            token = await first.GetTokenAsync(await first.RegisterAsync(Maaf));
            keyId = Assert.Single(await first.PublishedKeyIdsAsync());
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
            var stored = await db.SigningKeys.SingleAsync();
            using var probe = ECDsa.Create();
            // Data Protection's payload, not a PKCS#8 key: nobody reading the table can sign.
            Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(stored.ProtectedPrivateKey, out _));
            Assert.NotEmpty(await db.DataProtectionKeys.ToListAsync());
        }
        await using var second = await IssuerTestHost.StartAsync(dataDirectory: dataDirectory, settings: new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:BootstrapAdmin"] = "false",
        });

        // The second host listens on another port, hence another issuer: the key, not the token, carries over.
        Assert.Equal([keyId], await second.PublishedKeyIdsAsync());
        Assert.Equal(keyId, new JsonWebToken(token).Kid);
        var client = await second.RegisterAsync(Maaf with { ClientId = "maaf-2" });
        Assert.Equal(keyId, new JsonWebToken(await second.GetTokenAsync(client)).Kid);
    }

    [Fact]
    public async Task RevokedKey_LeavesTheJwksAtOnce_AndItsTokensStopValidating()
    {
        await using var host = await IssuerTestHost.StartAsync();
        var client = await host.RegisterAsync(Maaf);
        var leaked = await host.GetTokenAsync(client);
        var leakedKeyId = new JsonWebToken(leaked).Kid;

        var revoked = await host.Services.GetRequiredService<ISigningKeyRotation>().RevokeAsync(leakedKeyId, CancellationToken.None).DefaultTimeout();
        var fresh = await host.GetTokenAsync(client);

        Assert.True(revoked);
        Assert.DoesNotContain(leakedKeyId, await host.PublishedKeyIdsAsync());
        Assert.False((await host.ValidateAsync(leaked)).IsValid);
        Assert.NotEqual(leakedKeyId, new JsonWebToken(fresh).Kid);
        Assert.True((await host.ValidateAsync(fresh)).IsValid);
        Assert.Contains(host.Logs, r => r.EventId.Id == IdentityEventIds.SigningKeyRevoked);
    }

    [Fact]
    public async Task WithAKeyRingCertificate_TheKeyRingIsStoredEncrypted_AndTokensAreIssued()
    {
        var dataDirectory = IssuerTestHost.NewDataDirectory();
        Directory.CreateDirectory(dataDirectory);
        using var rsa = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=hlmhub key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddDays(-1), TimeProvider.System.GetUtcNow().AddYears(1));
        var pfx = Path.Combine(dataDirectory, "key-ring.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "test-password"));

        await using var host = await IssuerTestHost.StartAsync(dataDirectory: dataDirectory, settings: new Dictionary<string, string?>
        {
            ["Auth:EmbeddedIssuer:KeyRingCertificatePath"] = pfx,
            ["Auth:EmbeddedIssuer:KeyRingCertificatePassword"] = "test-password",
        });
        var token = await host.GetTokenAsync(await host.RegisterAsync(Maaf));

        Assert.True((await host.ValidateAsync(token)).IsValid);
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        var ring = Assert.Single(await db.DataProtectionKeys.ToListAsync());
        // Data Protection writes an encrypted key's secret inside <EncryptedData>, never as a clear <masterKey>.
        Assert.Contains("EncryptedData", ring.Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<value>", ring.Xml, StringComparison.Ordinal);
    }
}
