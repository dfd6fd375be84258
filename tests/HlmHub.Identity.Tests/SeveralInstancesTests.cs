using HlmHub.Identity.ResourceServer;
using HlmHub.Identity.Tests.Infrastructure;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Tests;

/// <summary>Two hubs on one PostgreSQL database, started together: one bootstrap admin, one set of keys, no race on changes.</summary>
public sealed class SeveralInstancesTests
{
    private static readonly Dictionary<string, string?> ShortRotation = new()
    {
        ["Auth:EmbeddedIssuer:KeyRotationInterval"] = "01:00:00",
        ["Auth:EmbeddedIssuer:KeyAnnouncementLead"] = "00:10:00",
        // Each instance re-reads the keys on every request, so both see every change the other makes at once.
        ["Auth:EmbeddedIssuer:KeyCacheRefreshInterval"] = "00:00:00.001",
    };

    [Fact]
    public async Task TwoHubsStartingTogether_CreateOneBootstrapAdmin_AndShareTheirSigningKeys()
    {
        await using var database = await HlmHub.TestSupport.EmptyDatabase.CreateAsync(StorageProvider.Postgres, CancellationToken.None);
        await MigrateAsync(database.ConnectionString);

        var hosts = await Task.WhenAll(
            IssuerTestHost.StartAsync(ShortRotation, postgres: database.ConnectionString),
            IssuerTestHost.StartAsync(ShortRotation, postgres: database.ConnectionString));
        await using var first = hosts[0];
        await using var second = hosts[1];

        var bootstrapFiles = hosts.Count(host => File.Exists(Path.Combine(host.DataDirectory, BootstrapAdmin.FileName)));
        Assert.Equal(1, bootstrapFiles);
        var clients = await first.Registry.ListAsync(0, 100, CancellationToken.None).DefaultTimeout();
        Assert.Single(clients, client => client.Kind == ClientKind.Admin && client.ClubId is null);

        var client = await first.RegisterAsync(new ClientRegistration(ClientKind.Partner, "MAAF", ["hlmhub.test"], PartnerId: "maaf"));
        var fromFirst = await first.GetTokenAsync(client);
        var fromSecond = await second.GetTokenAsync(client);
        Assert.Equal(new JsonWebToken(fromFirst).Kid, new JsonWebToken(fromSecond).Kid);
        Assert.Equal(await first.PublishedKeyIdsAsync(), await second.PublishedKeyIdsAsync());
        // A token the first hub signed verifies with the keys the second one publishes.
        var secondKeys = new JsonWebKeySet(await second.Http.GetStringAsync(IdentityEndpointPaths.Jwks).DefaultTimeout());
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(fromFirst, new TokenValidationParameters
        {
            ValidIssuer = first.Issuer,
            ValidAudience = IssuerTestHost.Audience,
            IssuerSigningKeys = secondKeys.GetSigningKeys(),
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
    }

    [Fact]
    public async Task TwoHubsRotatingAndPurgingAtOnce_MakeEachKeyChangeOnce_WithoutErrors()
    {
        await using var database = await HlmHub.TestSupport.EmptyDatabase.CreateAsync(StorageProvider.Postgres, CancellationToken.None);
        await MigrateAsync(database.ConnectionString);
        await using var first = await IssuerTestHost.StartAsync(ShortRotation, postgres: database.ConnectionString);
        await using var second = await IssuerTestHost.StartAsync(ShortRotation, postgres: database.ConnectionString);
        var initial = Assert.Single(await first.PublishedKeyIdsAsync());

        // 51 minutes on, both hubs see that the next key is due, at the same time.
        first.Clock.Advance(TimeSpan.FromMinutes(51));
        second.Clock.Advance(TimeSpan.FromMinutes(51));
        await HammerJwksAsync(first, second);
        Assert.Equal(2, await CountKeysAsync(first));

        // 61 + 16 minutes on: the first key has expired on both hubs, which purge it at the same time; the
        // second key signs and its successor is announced once.
        first.Clock.Advance(TimeSpan.FromMinutes(26));
        second.Clock.Advance(TimeSpan.FromMinutes(26));
        await HammerJwksAsync(first, second);

        var published = await first.PublishedKeyIdsAsync();
        Assert.DoesNotContain(initial, published);
        Assert.Equal(published, await second.PublishedKeyIdsAsync());
        Assert.Equal(published.Count, await CountKeysAsync(first));
    }

    [Fact]
    public async Task KeyRotatedOnAnotherInstance_IsFoundByACallThatArrivesWhileTheKeysAreBeingReloaded()
    {
        await using var database = await HlmHub.TestSupport.EmptyDatabase.CreateAsync(StorageProvider.Postgres, CancellationToken.None);
        await MigrateAsync(database.ConnectionString);
        await using var first = await IssuerTestHost.StartAsync(postgres: database.ConnectionString);
        await using var second = await IssuerTestHost.StartAsync(postgres: database.ConnectionString);
        var configuration = second.Services.GetRequiredService<EmbeddedIssuerConfigurationManager>();
        var before = await configuration.GetConfigurationAsync(CancellationToken.None).DefaultTimeout();
        var newKeyId = await first.Services.GetRequiredService<ISigningKeyRotation>().RotateNowAsync(CancellationToken.None).DefaultTimeout();
        Assert.DoesNotContain(newKeyId, before.SigningKeys.Select(k => k.KeyId));

        // Two calls carrying a token of the new key reach the second hub at once: JwtBearer asks for a refresh, the
        // first call's reload reads the keys (held here by a lock on the table), and the second call asks for them.
        await using var hold = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await hold.OpenAsync().DefaultTimeout();
        await using var transaction = await hold.BeginTransactionAsync().AsTask().DefaultTimeout();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE \"SigningKeys\" IN ACCESS EXCLUSIVE MODE", hold, transaction))
        {
            await lockTable.ExecuteNonQueryAsync().DefaultTimeout();
        }
        configuration.RequestRefresh();
        var reloading = configuration.GetConfigurationAsync(CancellationToken.None);
        configuration.RequestRefresh();
        var meanwhile = configuration.GetConfigurationAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(reloading.IsCompleted);
        await transaction.RollbackAsync().DefaultTimeout();

        // The second call waited for the reload instead of validating against the keys it replaces.
        Assert.Contains(newKeyId, (await reloading.DefaultTimeout()).SigningKeys.Select(k => k.KeyId));
        Assert.Contains(newKeyId, (await meanwhile.DefaultTimeout()).SigningKeys.Select(k => k.KeyId));
    }

    [Fact]
    public async Task TwoHubProcessesOnOnePostgres_CreateOneBootstrapAdmin_AndSignWithTheSameKey()
    {
        await using var database = await HlmHub.TestSupport.EmptyDatabase.CreateAsync(StorageProvider.Postgres, CancellationToken.None);
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:HlmHub"] = database.ConnectionString,
        };
        // As in production: the schema is migrated once, then the instances start.
        await HubProcess.MigrateAsync(new Dictionary<string, string?>(settings) { ["Storage:DataDirectory"] = IssuerTestHost.NewDataDirectory() });
        var directories = new[] { IssuerTestHost.NewDataDirectory(), IssuerTestHost.NewDataDirectory() };

        await using var first = HubProcess.Start(new Dictionary<string, string?>(settings) { ["Storage:DataDirectory"] = directories[0] });
        await using var second = HubProcess.Start(new Dictionary<string, string?>(settings) { ["Storage:DataDirectory"] = directories[1] });
        await Task.WhenAll(first.WaitStartedAsync(), second.WaitStartedAsync());

        var written = directories.Where(directory => File.Exists(Path.Combine(directory, BootstrapAdmin.FileName))).ToList();
        var admin = BootstrapAdmin.Read(Assert.Single(written));
        Assert.Equal(1, await CountHubAdministratorsAsync(database.ConnectionString));

        var fromFirst = await admin.GetTokenAsync(first.HttpAddress);
        var fromSecond = await admin.GetTokenAsync(second.HttpAddress);
        using var http = new HttpClient();
        Assert.Equal(new JsonWebToken(fromFirst).Kid, new JsonWebToken(fromSecond).Kid);
        var secondKeys = new JsonWebKeySet(await http.GetStringAsync(second.Issuer + ".well-known/jwks").DefaultTimeout());
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(fromFirst, new TokenValidationParameters
        {
            ValidIssuer = first.Issuer,
            ValidAudience = IssuerTestHost.Audience,
            IssuerSigningKeys = secondKeys.GetSigningKeys(),
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        // The whole output when it fails: the line after "fail:" says what failed.
        var output = first.Output + second.Output;
        Assert.False(output.Contains("fail:", StringComparison.Ordinal) || output.Contains("crit:", StringComparison.Ordinal), output);
    }

    private static async Task<long> CountHubAdministratorsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM \"OpenIddictApplications\" WHERE \"Properties\" LIKE '%\"hlmhub_kind\":\"admin\"%' AND \"Properties\" NOT LIKE '%hlmhub_club%'",
            connection);
        return (long)(await command.ExecuteScalarAsync().DefaultTimeout())!;
    }

    private static async Task HammerJwksAsync(IssuerTestHost first, IssuerTestHost second)
    {
        var requests = Enumerable.Range(0, 10)
            .SelectMany(_ => new[] { first.Http.GetStringAsync(IdentityEndpointPaths.Jwks), second.Http.GetStringAsync(IdentityEndpointPaths.Jwks) });
        await Task.WhenAll(requests).DefaultTimeout();
    }

    private static async Task<int> CountKeysAsync(IssuerTestHost host)
    {
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();
        return await db.SigningKeys.CountAsync();
    }

    // Migrated once beforehand, as an operator's `--migrate` would, so the two hubs start on the same schema.
    private static async Task MigrateAsync(string connectionString)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:HlmHub"] = connectionString,
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddHlmHubStorage(configuration).BuildServiceProvider();
        await services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None).DefaultTimeout();
    }
}
