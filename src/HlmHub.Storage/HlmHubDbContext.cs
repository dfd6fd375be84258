using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Configuration;
using HlmHub.Storage.Conversions;
using HlmHub.Storage.Identity;
using HlmHub.Storage.Internal;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace HlmHub.Storage;

/// <summary>
/// The EF Core context over HlmHub's database (SQLite or PostgreSQL, chosen by
/// <see cref="StorageServiceCollectionExtensions.AddHlmHubStorage"/>). The schema comes from the generated
/// migrations of each provider (<c>src/HlmHub.Storage.Migrations.*</c>), applied by <see cref="IDatabaseMigrator"/>. Saving refuses ledger changes
/// that are not new balanced transactions (<see cref="LedgerIntegrityException"/>). It also holds OpenIddict's
/// tables (the embedded authorization server's clients, in <c>OpenIddictApplications</c>) and the ASP.NET Core
/// Data Protection key ring that encrypts the signing keys.
/// </summary>
public sealed class HlmHubDbContext(DbContextOptions<HlmHubDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>Token signing keys (private keys encrypted with Data Protection).</summary>
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    /// <summary>Short leases that serialise changes to shared identity state across hub instances.</summary>
    public DbSet<IdentityLease> IdentityLeases => Set<IdentityLease>();

    /// <summary>The Data Protection key ring, shared by every hub instance on this database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The replay cache of accepted client assertions.</summary>
    public DbSet<ClientAssertionUse> ClientAssertionUses => Set<ClientAssertionUse>();

    /// <summary>Landlords.</summary>
    public DbSet<Landlord> Landlords => Set<Landlord>();

    /// <summary>Roster entries.</summary>
    public DbSet<Household> Households => Set<Household>();

    /// <summary>Landlords' roster sync sessions (progress for resuming, and counts).</summary>
    public DbSet<HlmHub.Domain.Roster.RosterSession> RosterSessions => Set<HlmHub.Domain.Roster.RosterSession>();

    /// <summary>The stale and rejected items of roster sessions, listed in their answers (at most Roster:MaxProblemsReported per session).</summary>
    public DbSet<HlmHub.Domain.Roster.RosterSessionProblem> RosterSessionProblems => Set<HlmHub.Domain.Roster.RosterSessionProblem>();

    /// <summary>Clubs.</summary>
    public DbSet<Club> Clubs => Set<Club>();

    /// <summary>Federation agreements between clubs and neighbouring landlords.</summary>
    public DbSet<FederationAgreement> FederationAgreements => Set<FederationAgreement>();

    /// <summary>Households' club memberships.</summary>
    public DbSet<Membership> Memberships => Set<Membership>();

    /// <summary>Partners.</summary>
    public DbSet<Partner> Partners => Set<Partner>();

    /// <summary>Partner contracts with clubs.</summary>
    public DbSet<Contract> Contracts => Set<Contract>();

    /// <summary>Offers.</summary>
    public DbSet<Offer> Offers => Set<Offer>();

    /// <summary>Offer versions (immutable once redeemed).</summary>
    public DbSet<OfferVersion> OfferVersions => Set<OfferVersion>();

    /// <summary>Redemptions and cancellations, accepted or rejected.</summary>
    public DbSet<Redemption> Redemptions => Set<Redemption>();

    /// <summary>What each household used of each capped offer per month (the cap counters, version-checked).</summary>
    public DbSet<RedemptionUsage> RedemptionUsages => Set<RedemptionUsage>();

    /// <summary>Partners' monthly statements (with their lines and event ids).</summary>
    public DbSet<Statement> Statements => Set<Statement>();

    /// <summary>Closed months per club (append-only).</summary>
    public DbSet<PeriodClosure> PeriodClosures => Set<PeriodClosure>();

    /// <summary>Ledger accounts.</summary>
    public DbSet<LedgerAccount> LedgerAccounts => Set<LedgerAccount>();

    /// <summary>Ledger transactions (append-only, with their entries).</summary>
    public DbSet<LedgerTransaction> LedgerTransactions => Set<LedgerTransaction>();

    /// <summary>Ledger entries (append-only).</summary>
    public DbSet<LedgerEntry> LedgerEntries => Set<LedgerEntry>();

    /// <summary>Partner fees found overdue by the daily check (once per contract and due date).</summary>
    public DbSet<HlmHub.Domain.Ledger.OverdueFee> OverdueFees => Set<HlmHub.Domain.Ledger.OverdueFee>();

    /// <summary>Recorded reconciliation runs (dry runs are not recorded).</summary>
    public DbSet<HlmHub.Domain.Reconciliation.ReconciliationRun> ReconciliationRuns => Set<HlmHub.Domain.Reconciliation.ReconciliationRun>();

    /// <summary>The discrepancies of recorded reconciliation runs.</summary>
    public DbSet<HlmHub.Domain.Reconciliation.ReconciliationDiscrepancy> ReconciliationDiscrepancies => Set<HlmHub.Domain.Reconciliation.ReconciliationDiscrepancy>();

    /// <inheritdoc />
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        LedgerWriteCheck.Verify(ChangeTracker);
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <inheritdoc />
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        LedgerWriteCheck.Verify(ChangeTracker);
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // One provider-neutral representation per value type, applied to nullable properties too:
        // instants as Unix milliseconds (see UnixMillisecondsConverter), money as cents, periods as yyyymm,
        // enums by name (readable in SQL and stable when members are reordered).
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
        configurationBuilder.Properties<Money>().HaveConversion<MoneyConverter>();
        // Lets query functions take money (see StorageFunctions).
        configurationBuilder.DefaultTypeMapping<Money>().HasConversion<MoneyConverter>();
        configurationBuilder.DefaultTypeMapping<Period>().HasConversion<PeriodConverter>();
        configurationBuilder.Properties<Period>().HaveConversion<PeriodConverter>();
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(ColumnLengths.EnumName);
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(HlmHubDbContext).Assembly);
        // OpenIddict's four tables (applications, authorizations, scopes, tokens) with its default entities.
        modelBuilder.UseOpenIddict();
        // OAuth client ids are case-sensitive and the client registry accepts both cases; OpenIddict finds a client in
        // SQL, then compares ids ordinally, so on SQL Server's usual collation "Foo" beside "foo" hit its unique index.
        modelBuilder.Entity<OpenIddictEntityFrameworkCoreApplication>().Property(application => application.ClientId).CaseSensitiveOnSqlServer();
        StorageFunctionTranslations.Register(modelBuilder);
        if (Database.IsSqlServer())
        {
            CaseSensitiveIdentifiers.ApplyForSqlServer(modelBuilder);
        }
        else if (Database.IsNpgsql())
        {
            HeapOnlyUpdates.ApplyForPostgres(modelBuilder);
        }
    }
}
