using System.Security.Cryptography;
using HlmHub.Identity.Internal;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;

namespace HlmHub.Identity.Tests;

public sealed class ClientRegistryTests
{
    [Fact]
    public async Task Secret_IsStoredOnlyAsOpenIddictsHash()
    {
        await using var host = await IssuerTestHost.StartAsync();

        var registered = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));

        Assert.Equal(43, registered.ClientSecret!.Length);
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        var stored = await db.Set<OpenIddictEntityFrameworkCoreApplication>().SingleAsync(a => a.ClientId == registered.ClientId);
        Assert.False(string.IsNullOrEmpty(stored.ClientSecret));
        Assert.DoesNotContain(registered.ClientSecret, stored.ClientSecret, StringComparison.Ordinal);
        var described = await host.Registry.FindAsync(registered.ClientId, CancellationToken.None);
        Assert.Equal(["hlmhub.test"], described!.AllowedScopes);
        Assert.Equal(("maaf", ClientKind.Partner, false), (described.PartnerId, described.Kind, described.UsesPublicKey));
    }

    [Fact]
    public async Task InvalidRegistrations_AreRefusedWithReasons()
    {
        await using var host = await IssuerTestHost.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privateJwk = SigningKeyManager.PublicJwkJson(key, "k", "ES256").TrimEnd('}') + ",\"d\":\"AAAA\"}";

        ClientRegistration[] invalid =
        [
            new(ClientKind.Partner, "No partner", ["hlmhub.test"]),
            new(ClientKind.Landlord, "Partner binding", ["hlmhub.roster"], PartnerId: "maaf"),
            new(ClientKind.Admin, "Landlord admin", ["hlmhub.admin"], LandlordId: "pch"),
            new(ClientKind.Partner, "No scope", [], PartnerId: "maaf"),
            new(ClientKind.Partner, "Control\0character", ["hlmhub.test"], PartnerId: "maaf"),
            new(ClientKind.Partner, "Bad scope", ["a b"], PartnerId: "maaf"),
            new(ClientKind.Partner, "Private key", ["hlmhub.test"], PartnerId: "maaf", PublicJwk: privateJwk),
            new(ClientKind.Partner, "Not a key", ["hlmhub.test"], PartnerId: "maaf", PublicJwk: "{\"kty\":\"oct\",\"k\":\"AAAA\"}"),
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
        await using var host = await IssuerTestHost.StartAsync();
        var registration = new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf", ClientId: "maaf-prod");
        var registered = await host.RegisterAsync(registration);

        var duplicate = await Assert.ThrowsAsync<ClientRegistryException>(() => host.RegisterAsync(registration));
        var unknown = await Assert.ThrowsAsync<ClientRegistryException>(() => host.Registry.DisableAsync("nobody", CancellationToken.None));

        Assert.Equal("maaf-prod", registered.ClientId);
        Assert.NotNull(registered.ClientSecret);
        Assert.Equal(ClientRegistryError.AlreadyExists, duplicate.Error);
        Assert.Equal(ClientRegistryError.NotFound, unknown.Error);
    }

    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public async Task ConcurrentDisablesAndRotations_EitherApplyOrAreRefused_AndADisableThatSucceededSticks(StorageProvider provider)
    {
        await using var database = await HlmHub.TestSupport.EmptyDatabase.CreateAsync(provider, CancellationToken.None);
        await using var host = await IssuerTestHost.StartAsync(
            dataDirectory: database.DataDirectory, postgres: provider == StorageProvider.Postgres ? database.ConnectionString : null);
        var unexpected = new List<Exception>();
        for (var round = 0; round < 20; round++)
        {
            var client = await host.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
            // Two administrators disabling the client while two others rotate its secret, all at once.
            using var start = new ManualResetEventSlim();
            Task Run(Func<Task> change) => Task.Run(async () =>
            {
                start.Wait();
                await change();
            });
            var disables = Enumerable.Range(0, 2).Select(_ => Run(() => host.Registry.DisableAsync(client.ClientId, CancellationToken.None))).ToList();
            var rotations = Enumerable.Range(0, 2).Select(_ => Run(() => host.Registry.RotateSecretAsync(client.ClientId, CancellationToken.None))).ToList();
            start.Set();
            try
            {
                await Task.WhenAll(disables.Concat(rotations)).DefaultTimeout();
            }
            catch (Exception)
            {
                // Each task's own outcome is read below.
            }

            // A refusal is the registry's own answer (a rotation of a client already disabled, or a change that lost
            // to another and asks for a retry); anything else would reach an administrator as an internal error.
            unexpected.AddRange(disables.Concat(rotations)
                .Where(task => task.IsFaulted && task.Exception!.InnerException is not ClientRegistryException)
                .Select(task => task.Exception!.InnerException!));
            if (disables.Any(task => task.IsCompletedSuccessfully))
            {
                var described = await host.Registry.FindAsync(client.ClientId, CancellationToken.None).DefaultTimeout();
                Assert.NotNull(described!.DisabledAt);
            }
        }

        Assert.Empty(unexpected);
    }
}
