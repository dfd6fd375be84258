using HlmHub.Storage.Conversions;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage;

/// <summary>
/// The EF Core context over HlmHub's database (SQLite or PostgreSQL, chosen by
/// <see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>). The schema comes from the hand-written
/// migrations in <c>Migrations/</c>, applied by <see cref="IDatabaseMigrator"/>.
/// </summary>
public sealed class HlmHubDbContext(DbContextOptions<HlmHubDbContext> options) : DbContext(options)
{
    /// <summary>Clients of the embedded token endpoint.</summary>
    public DbSet<OAuthClient> OAuthClients => Set<OAuthClient>();

    /// <summary>Token signing keys.</summary>
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    /// <summary>The replay cache of accepted client assertions.</summary>
    public DbSet<ClientAssertionUse> ClientAssertionUses => Set<ClientAssertionUse>();

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // One provider-neutral representation for every instant (see UnixMillisecondsConverter); it applies to
        // nullable instants too.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(HlmHubDbContext).Assembly);
    }
}
