using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Conversions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

// Every relationship is Restrict unless a child only makes sense with its parent (statement lines): nothing in
// HlmHub deletes business data in cascade, and the ledger is append-only.

internal sealed class LandlordConfiguration : IEntityTypeConfiguration<Landlord>
{
    public void Configure(EntityTypeBuilder<Landlord> builder)
    {
        builder.HasKey(landlord => landlord.Id);
        builder.Property(landlord => landlord.Id).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(landlord => landlord.Name).HasMaxLength(Limits.NameMaxLength);
        builder.Property(landlord => landlord.Siren).HasMaxLength(ColumnLengths.Siren);
        builder.HasIndex(landlord => landlord.Siren).IsUnique();
    }
}

internal sealed class HouseholdConfiguration : IEntityTypeConfiguration<Household>
{
    public void Configure(EntityTypeBuilder<Household> builder)
    {
        builder.HasKey(household => household.Id);
        builder.Property(household => household.Id).ValueGeneratedNever();
        builder.Property(household => household.LandlordId).HasMaxLength(Limits.SlugMaxLength);
        // The roster keys a batch's households by reference ordinally: on SQL Server's usual collation `a-1` stored
        // matched `A-1` sent, the batch inserted it again and the unique index refused the whole transaction.
        builder.Property(household => household.LandlordReference).HasMaxLength(Limits.LandlordReferenceMaxLength).CaseSensitiveOnSqlServer();
        builder.Property(household => household.MemberToken).HasMaxLength(Limits.MemberTokenMaxLength).CaseSensitiveOnSqlServer();
        builder.ToTable(table => table.HasCheckConstraint(CheckConstraintNames.HouseholdRoomsInRange, "\"Rooms\" BETWEEN 1 AND 7"));
        builder.HasIndex(household => new { household.LandlordId, household.LandlordReference }).IsUnique();
        builder.HasIndex(household => household.MemberToken).IsUnique();
        // A Watch poll looks up the households whose status changed in its window (WatchQueries.ChangedHouseholds).
        // Not UpdatedAt: every roster change moves it, and a changed indexed column makes PostgreSQL write a new entry
        // in each of the table's indexes instead of a heap-only update (HeapOnlyUpdates).
        builder.HasIndex(household => household.StatusChangedAt);
        builder.HasOne<Landlord>().WithMany().HasForeignKey(household => household.LandlordId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ClubConfiguration : IEntityTypeConfiguration<Club>
{
    public void Configure(EntityTypeBuilder<Club> builder)
    {
        builder.HasKey(club => club.Id);
        builder.Property(club => club.Id).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(club => club.Name).HasMaxLength(Limits.NameMaxLength);
        builder.Property(club => club.HostLandlordId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasOne<Landlord>().WithMany().HasForeignKey(club => club.HostLandlordId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class FederationAgreementConfiguration : IEntityTypeConfiguration<FederationAgreement>
{
    public void Configure(EntityTypeBuilder<FederationAgreement> builder)
    {
        builder.HasKey(agreement => agreement.Id);
        builder.Property(agreement => agreement.Id).ValueGeneratedNever();
        builder.Property(agreement => agreement.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(agreement => agreement.LandlordId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(agreement => agreement.ProposedByLandlordId).HasMaxLength(Limits.SlugMaxLength);
        // Both parties change the same row, each deciding on what it read (an end brought forward, never pushed back):
        // an update applies only if the columns a change writes are still as read, or the later of two notices would
        // win. Every change moves at least one of them, and never back to a value it had (the status only goes
        // forward, an end only earlier), so no change is missed; no version column to add or keep.
        builder.Property(agreement => agreement.Status).IsConcurrencyToken();
        builder.Property(agreement => agreement.AcceptedAt).IsConcurrencyToken();
        builder.Property(agreement => agreement.EndedAt).IsConcurrencyToken();
        // One live (proposed or active) agreement per club and landlord.
        builder.HasIndex(agreement => new { agreement.ClubId, agreement.LandlordId })
            .IsUnique()
            .HasFilter(IndexFilters.FederationNotEnded);
        builder.HasOne<Club>().WithMany().HasForeignKey(agreement => agreement.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Landlord>().WithMany().HasForeignKey(agreement => agreement.LandlordId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> builder)
    {
        builder.HasKey(membership => new { membership.ClubId, membership.HouseholdId });
        builder.Property(membership => membership.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasIndex(membership => membership.HouseholdId);
        // A Watch poll looks up the opt-ins into the partner's clubs made or dropped in its window
        // (WatchQueries.ChangedHouseholds). The club comes first: with JoinedAt alone, SQLite prefers walking every
        // membership of the club by the primary key to a range of all clubs' opt-ins.
        builder.HasIndex(membership => new { membership.ClubId, membership.JoinedAt });
        builder.HasIndex(membership => new { membership.ClubId, membership.LeftAt });
        builder.HasOne<Club>().WithMany().HasForeignKey(membership => membership.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Household>().WithMany().HasForeignKey(membership => membership.HouseholdId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PartnerConfiguration : IEntityTypeConfiguration<Partner>
{
    public void Configure(EntityTypeBuilder<Partner> builder)
    {
        builder.HasKey(partner => partner.Id);
        builder.Property(partner => partner.Id).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(partner => partner.Name).HasMaxLength(Limits.NameMaxLength);
        builder.Property(partner => partner.Trade).HasMaxLength(Limits.TradeMaxLength);
        builder.Property(partner => partner.Siret).HasMaxLength(ColumnLengths.Siret);
        builder.HasIndex(partner => partner.Siret).IsUnique();
    }
}

internal sealed class ContractConfiguration : IEntityTypeConfiguration<Contract>
{
    public void Configure(EntityTypeBuilder<Contract> builder)
    {
        builder.HasKey(contract => contract.Id);
        builder.Property(contract => contract.Id).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(contract => contract.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(contract => contract.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(contract => contract.Trade).HasMaxLength(Limits.TradeMaxLength);
        // At most one active building-trade contract per (club, trade): the database backs the domain rule.
        builder.HasIndex(contract => new { contract.ClubId, contract.Trade })
            .IsUnique()
            .HasFilter(IndexFilters.ActiveBuildingTrade)
            .HasDatabaseName(IndexNames.OneActiveBuildingTradePerClub);
        builder.HasIndex(contract => contract.PartnerId);
        builder.HasOne<Club>().WithMany().HasForeignKey(contract => contract.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Partner>().WithMany().HasForeignKey(contract => contract.PartnerId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class OfferConfiguration : IEntityTypeConfiguration<Offer>
{
    public void Configure(EntityTypeBuilder<Offer> builder)
    {
        builder.HasKey(offer => offer.Id);
        builder.Property(offer => offer.Id).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(offer => offer.ContractId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(offer => offer.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(offer => offer.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(offer => offer.Title).HasMaxLength(Limits.NameMaxLength);
        builder.HasIndex(offer => offer.ContractId);
        builder.HasIndex(offer => offer.ClubId);
        builder.HasIndex(offer => offer.PartnerId);
        builder.HasOne<Contract>().WithMany().HasForeignKey(offer => offer.ContractId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class OfferVersionConfiguration : IEntityTypeConfiguration<OfferVersion>
{
    public void Configure(EntityTypeBuilder<OfferVersion> builder)
    {
        builder.ToTable(table => table.HasTrigger(TriggerNames.OfferVersionImmutableOnceRedeemed));
        builder.HasKey(version => new { version.OfferId, version.Version });
        builder.Property(version => version.OfferId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(version => version.RoomTariffs)
            .HasConversion(new RoomTariffsConverter(), new RoomTariffsComparer())
            .HasMaxLength(ColumnLengths.RoomTariffs);
        builder.HasOne<Offer>().WithMany().HasForeignKey(version => version.OfferId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RedemptionConfiguration : IEntityTypeConfiguration<Redemption>
{
    public void Configure(EntityTypeBuilder<Redemption> builder)
    {
        builder.HasKey(redemption => redemption.Id);
        builder.Property(redemption => redemption.Id).ValueGeneratedNever();
        builder.Property(redemption => redemption.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(redemption => redemption.PartnerEventId).HasMaxLength(Limits.PartnerEventIdMaxLength).CaseSensitiveOnSqlServer();
        builder.Property(redemption => redemption.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(redemption => redemption.OfferId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(redemption => redemption.MemberToken).HasMaxLength(Limits.MemberTokenMaxLength).CaseSensitiveOnSqlServer();
        // One redemption per (partner, partner event id): a retried event finds the first answer.
        builder.HasIndex(redemption => new { redemption.PartnerId, redemption.PartnerEventId })
            .IsUnique()
            .HasDatabaseName(IndexNames.OneRedemptionPerPartnerEvent);
        // A redemption is cancelled at most once.
        builder.HasIndex(redemption => redemption.CancelsRedemptionId)
            .IsUnique()
            .HasFilter(IndexFilters.IsCancellation);
        builder.HasIndex(redemption => new { redemption.ClubId, redemption.Period });
        builder.HasIndex(redemption => new { redemption.HouseholdId, redemption.OfferId, redemption.Period });
        builder.HasIndex(redemption => new { redemption.OfferId, redemption.OfferVersion });
        builder.HasOne<Partner>().WithMany().HasForeignKey(redemption => redemption.PartnerId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Club>().WithMany().HasForeignKey(redemption => redemption.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Household>().WithMany().HasForeignKey(redemption => redemption.HouseholdId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<OfferVersion>().WithMany()
            .HasForeignKey(redemption => new { redemption.OfferId, redemption.OfferVersion })
            .OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Redemption>().WithOne()
            .HasForeignKey<Redemption>(redemption => redemption.CancelsRedemptionId)
            .OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RedemptionUsageConfiguration : IEntityTypeConfiguration<RedemptionUsage>
{
    public void Configure(EntityTypeBuilder<RedemptionUsage> builder)
    {
        builder.ToTable("RedemptionUsages");
        builder.HasKey(usage => new { usage.HouseholdId, usage.OfferId, usage.Period });
        builder.Property(usage => usage.OfferId).HasMaxLength(Limits.SlugMaxLength);
        // Checked on every write: a hub instance that read an older count decides its batch again (DESIGN.md §2 caps).
        builder.Property(usage => usage.Version).IsConcurrencyToken();
        builder.Ignore(usage => usage.AsPeriodUsage);
        builder.HasOne<Household>().WithMany().HasForeignKey(usage => usage.HouseholdId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Offer>().WithMany().HasForeignKey(usage => usage.OfferId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StatementConfiguration : IEntityTypeConfiguration<Statement>
{
    public void Configure(EntityTypeBuilder<Statement> builder)
    {
        builder.HasKey(statement => statement.Id);
        builder.Property(statement => statement.Id).ValueGeneratedNever();
        builder.Property(statement => statement.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(statement => statement.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasIndex(statement => new { statement.PartnerId, statement.ClubId, statement.Period, statement.Revision }).IsUnique();
        builder.HasIndex(statement => new { statement.ClubId, statement.Period });
        builder.HasOne<Partner>().WithMany().HasForeignKey(statement => statement.PartnerId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Club>().WithMany().HasForeignKey(statement => statement.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(statement => statement.Lines).WithOne().HasForeignKey(line => line.StatementId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(statement => statement.Events).WithOne().HasForeignKey(item => item.StatementId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(statement => statement.Lines).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Navigation(statement => statement.Events).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class StatementLineConfiguration : IEntityTypeConfiguration<StatementLine>
{
    public void Configure(EntityTypeBuilder<StatementLine> builder)
    {
        builder.ToTable("StatementLines");
        builder.HasKey(line => new { line.StatementId, line.OfferId });
        builder.Property(line => line.OfferId).HasMaxLength(Limits.SlugMaxLength);
    }
}

internal sealed class StatementEventConfiguration : IEntityTypeConfiguration<StatementEvent>
{
    public void Configure(EntityTypeBuilder<StatementEvent> builder)
    {
        builder.ToTable("StatementEvents");
        builder.HasKey(item => new { item.StatementId, item.PartnerEventId });
        builder.Property(item => item.PartnerEventId).HasMaxLength(Limits.PartnerEventIdMaxLength).CaseSensitiveOnSqlServer();
    }
}

internal sealed class LedgerAccountConfiguration : IEntityTypeConfiguration<LedgerAccount>
{
    public void Configure(EntityTypeBuilder<LedgerAccount> builder)
    {
        builder.HasKey(account => account.Id);
        builder.Property(account => account.Id).HasMaxLength(Limits.LedgerAccountIdMaxLength);
        builder.Property(account => account.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(account => account.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasIndex(account => account.ClubId);
        builder.HasIndex(account => account.PartnerId);
        builder.HasOne<Club>().WithMany().HasForeignKey(account => account.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Partner>().WithMany().HasForeignKey(account => account.PartnerId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class LedgerTransactionConfiguration : IEntityTypeConfiguration<LedgerTransaction>
{
    public void Configure(EntityTypeBuilder<LedgerTransaction> builder)
    {
        builder.ToTable(table =>
        {
            table.HasTrigger(TriggerNames.LedgerTransactionsAppendOnly);
            table.HasTrigger(TriggerNames.LedgerTransactionsOpenPeriodOnly);
        });
        builder.HasKey(transaction => transaction.Id);
        builder.Property(transaction => transaction.Id).ValueGeneratedNever();
        builder.Property(transaction => transaction.IdempotencyKey).CaseSensitiveOnSqlServer();
        builder.Property(transaction => transaction.IdempotencyKey).HasMaxLength(Limits.IdempotencyKeyMaxLength);
        builder.Property(transaction => transaction.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(transaction => transaction.Description).HasMaxLength(Limits.DescriptionMaxLength);
        // The same source is never booked twice.
        builder.HasIndex(transaction => transaction.IdempotencyKey)
            .IsUnique()
            .HasDatabaseName(IndexNames.OneLedgerTransactionPerIdempotencyKey);
        builder.HasIndex(transaction => new { transaction.ClubId, transaction.Period });
        builder.HasIndex(transaction => transaction.ReversesTransactionId);
        builder.HasOne<Club>().WithMany().HasForeignKey(transaction => transaction.ClubId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<LedgerTransaction>().WithMany()
            .HasForeignKey(transaction => transaction.ReversesTransactionId)
            .OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(transaction => transaction.Entries).WithOne()
            .HasForeignKey(entry => entry.TransactionId)
            .OnDelete(DeleteBehavior.Restrict);
        builder.Navigation(transaction => transaction.Entries).UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        builder.ToTable(table =>
        {
            table.HasTrigger(TriggerNames.LedgerEntriesAppendOnly);
            table.HasTrigger(TriggerNames.LedgerEntriesBalanced);
            // Stored as cents and as the enum's name (HlmHubDbContext.ConfigureConventions).
            table.HasCheckConstraint(CheckConstraintNames.LedgerEntryAmountPositive, "\"Amount\" > 0");
            table.HasCheckConstraint(CheckConstraintNames.LedgerEntrySideValid, "\"Side\" IN ('Debit', 'Credit')");
        });
        builder.HasKey(entry => new { entry.TransactionId, entry.Line });
        builder.Property(entry => entry.AccountId).HasMaxLength(Limits.LedgerAccountIdMaxLength);
        builder.HasIndex(entry => entry.AccountId);
        builder.HasOne<LedgerAccount>().WithMany().HasForeignKey(entry => entry.AccountId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PeriodClosureConfiguration : IEntityTypeConfiguration<PeriodClosure>
{
    public void Configure(EntityTypeBuilder<PeriodClosure> builder)
    {
        builder.ToTable(table => table.HasTrigger(TriggerNames.PeriodClosuresAppendOnly));
        builder.HasKey(closure => new { closure.ClubId, closure.Period });
        builder.Property(closure => closure.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasOne<Club>().WithMany().HasForeignKey(closure => closure.ClubId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RosterSessionConfiguration : IEntityTypeConfiguration<HlmHub.Domain.Roster.RosterSession>
{
    public void Configure(EntityTypeBuilder<HlmHub.Domain.Roster.RosterSession> builder)
    {
        builder.HasKey(session => session.Id);
        builder.Property(session => session.Id).ValueGeneratedNever();
        builder.Property(session => session.LandlordId).HasMaxLength(Limits.SlugMaxLength);
        builder.Ignore(session => session.Items);
        // Two streams resuming one session at once: the second commit finds the progress moved and is refused.
        builder.Property(session => session.LastSequence).IsConcurrencyToken();
        // Open sessions per landlord are counted on every new session (a named limit).
        builder.HasIndex(session => new { session.LandlordId, session.Status });
        builder.HasOne<Landlord>().WithMany().HasForeignKey(session => session.LandlordId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RosterSessionProblemConfiguration : IEntityTypeConfiguration<HlmHub.Domain.Roster.RosterSessionProblem>
{
    public void Configure(EntityTypeBuilder<HlmHub.Domain.Roster.RosterSessionProblem> builder)
    {
        // A session's problems are read in sequence order, and counted against the bound, by this key alone.
        builder.HasKey(problem => new { problem.SessionId, problem.Sequence });
        builder.Property(problem => problem.LandlordReference).HasMaxLength(HlmHub.Domain.Roster.RosterSessionProblem.ReferenceMaxLength);
        builder.Property(problem => problem.Message).HasMaxLength(HlmHub.Domain.Roster.RosterSessionProblem.MessageMaxLength);
        // They are part of the session's answer, nothing more: whatever deletes a session deletes them.
        builder.HasOne<HlmHub.Domain.Roster.RosterSession>().WithMany().HasForeignKey(problem => problem.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OverdueFeeConfiguration : IEntityTypeConfiguration<HlmHub.Domain.Ledger.OverdueFee>
{
    public void Configure(EntityTypeBuilder<HlmHub.Domain.Ledger.OverdueFee> builder)
    {
        // One row per fee: the overdue check records each late fee once, however often it runs.
        builder.HasKey(fee => new { fee.ContractId, fee.DueDate });
        builder.Property(fee => fee.ContractId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(fee => fee.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(fee => fee.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.HasIndex(fee => fee.ClubId);
        builder.HasOne<Contract>().WithMany().HasForeignKey(fee => fee.ContractId).OnDelete(DeleteBehavior.Restrict);
    }
}
