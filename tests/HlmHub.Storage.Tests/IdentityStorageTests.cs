using HlmHub.Storage;
using HlmHub.Storage.Identity;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>The identity tables as the token endpoint uses them: instants compared in queries, replays refused.</summary>
public abstract class IdentityStorageTests(MigratedDatabaseFixture fixture)
{
    [SkippableFact]
    public async Task SigningKeysQueriedByInstant_ReturnOnlyKeysValidAtThatInstant()
    {
        var cancellationToken = TestTimeouts.Token();
        var now = new DateTimeOffset(2026, 11, 22, 19, 0, 0, TimeSpan.FromHours(1));
        var prefix = Guid.NewGuid().ToString("N")[..8];
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.SigningKeys.AddRange(
                Key(prefix + "-old", now.AddDays(-60), now.AddDays(-59), retiresAt: now.AddDays(-1)),
                Key(prefix + "-current", now.AddDays(-2), now.AddDays(-1), retiresAt: null),
                Key(prefix + "-next", now.AddMinutes(-5), now.AddDays(1), retiresAt: null));
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var signing = await context.SigningKeys
                .Where(key => key.KeyId.StartsWith(prefix) && key.ActivatesAt <= now && (key.RetiresAt == null || key.RetiresAt > now))
                .OrderByDescending(key => key.ActivatesAt)
                .Select(key => key.KeyId)
                .ToListAsync(cancellationToken);

            Assert.Equal([prefix + "-current"], signing);
            var stored = await context.SigningKeys.SingleAsync(key => key.KeyId == prefix + "-next", cancellationToken);
            Assert.Equal(now.AddDays(1), stored.ActivatesAt);
            Assert.Equal(TimeSpan.Zero, stored.ActivatesAt.Offset);
        }
    }

    [SkippableFact]
    public async Task ClientAssertionReplayed_IsRefusedByTheDatabase()
    {
        var cancellationToken = TestTimeouts.Token();
        var clientId = "client-" + Guid.NewGuid().ToString("N");
        var expiresAt = new DateTimeOffset(2026, 11, 22, 20, 0, 0, TimeSpan.Zero);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.ClientAssertionUses.Add(new ClientAssertionUse { ClientId = clientId, Jti = "jti-1", ExpiresAt = expiresAt });
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.ClientAssertionUses.Add(new ClientAssertionUse { ClientId = clientId, Jti = "jti-1", ExpiresAt = expiresAt });
            await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(cancellationToken));
        }
    }

    private static SigningKey Key(string id, DateTimeOffset createdAt, DateTimeOffset activatesAt, DateTimeOffset? retiresAt) => new()
    {
        KeyId = id,
        Algorithm = "ES256",
        ProtectedPrivateKey = [1, 2, 3],
        PublicJwk = "{}",
        CreatedAt = createdAt,
        ActivatesAt = activatesAt,
        RetiresAt = retiresAt,
    };
}

public sealed class SqliteIdentityStorageTests(SqliteDatabaseFixture fixture)
    : IdentityStorageTests(fixture), IClassFixture<SqliteDatabaseFixture>;

public sealed class PostgresIdentityStorageTests(PostgresDatabaseFixture fixture)
    : IdentityStorageTests(fixture), IClassFixture<PostgresDatabaseFixture>;

public sealed class SqlServerIdentityStorageTests(SqlServerDatabaseFixture fixture)
    : IdentityStorageTests(fixture), IClassFixture<SqlServerDatabaseFixture>;
