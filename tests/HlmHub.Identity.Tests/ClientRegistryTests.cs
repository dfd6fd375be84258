using System.Security.Cryptography;
using HlmHub.Identity.Internal;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage.Identity;

namespace HlmHub.Identity.Tests;

public sealed class ClientRegistryTests
{
    [Fact]
    public void SecretHash_VerifiesOnlyTheSecretAndIsSalted()
    {
        var secret = ClientSecretHasher.GenerateSecret();

        var hash = ClientSecretHasher.Hash(secret);

        Assert.Equal(43, secret.Length);
        Assert.StartsWith("pbkdf2-sha256$10000$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, hash, StringComparison.Ordinal);
        Assert.NotEqual(hash, ClientSecretHasher.Hash(secret));
        Assert.True(ClientSecretHasher.Verify(secret, hash));
        Assert.False(ClientSecretHasher.Verify(secret + "x", hash));
        Assert.False(ClientSecretHasher.Verify(secret, "plain-text-secret"));
    }

    [Fact]
    public async Task InvalidRegistrations_AreRefusedWithReasons()
    {
        await using var host = await IdentityTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privateJwk = SigningKeyManager.PublicJwkJson(key, "k", "ES256").TrimEnd('}') + ",\"d\":\"AAAA\"}";

        ClientRegistration[] invalid =
        [
            new(ClientKind.Partner, "No partner", ["hlmhub.test"]),
            new(ClientKind.Landlord, "Partner binding", ["hlmhub.roster"], PartnerId: "maaf"),
            new(ClientKind.Admin, "Landlord admin", ["hlmhub.admin"], LandlordId: "pch"),
            new(ClientKind.Partner, "No scope", [], PartnerId: "maaf"),
            new(ClientKind.Partner, "Bad scope", ["a b"], PartnerId: "maaf"),
            new(ClientKind.Partner, "Private key", ["hlmhub.test"], PartnerId: "maaf", PublicJwk: privateJwk),
            new(ClientKind.Partner, "Bad id", ["hlmhub.test"], PartnerId: "maaf", ClientId: "has space"),
        ];
        foreach (var registration in invalid)
        {
            var exception = await Assert.ThrowsAsync<ClientRegistryException>(() => host.RegisterAsync(registration));
            Assert.Equal(ClientRegistryError.Invalid, exception.Error);
        }
    }

    [Fact]
    public async Task DuplicateIdAndUnknownClient_AreReported()
    {
        await using var host = await IdentityTestHost.StartAsync();
        var registration = new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf", ClientId: "maaf-prod");
        var registered = await host.RegisterAsync(registration);

        var duplicate = await Assert.ThrowsAsync<ClientRegistryException>(() => host.RegisterAsync(registration));
        var unknown = await Assert.ThrowsAsync<ClientRegistryException>(() => host.Registry.DisableAsync("nobody", CancellationToken.None));

        Assert.Equal("maaf-prod", registered.ClientId);
        Assert.NotNull(registered.ClientSecret);
        Assert.Equal(ClientRegistryError.AlreadyExists, duplicate.Error);
        Assert.Equal(ClientRegistryError.NotFound, unknown.Error);
    }
}
