using HlmHub.Domain;
using HlmHub.Domain.Reconciliation;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

internal sealed class ReconciliationRunConfiguration : IEntityTypeConfiguration<ReconciliationRun>
{
    public void Configure(EntityTypeBuilder<ReconciliationRun> builder)
    {
        builder.HasKey(run => run.Id);
        builder.Property(run => run.Id).ValueGeneratedNever();
        builder.Property(run => run.ClubId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(run => run.StartedBy).HasMaxLength(Limits.NameMaxLength);
        builder.Property(run => run.InputsFingerprint).HasMaxLength(128);
        builder.Property(run => run.CountsByKind).HasMaxLength(500);
        // The latest run of a month is looked up by club, month and start.
        builder.HasIndex(run => new { run.ClubId, run.Period, run.StartedAt });
        builder.HasOne<Club>().WithMany().HasForeignKey(run => run.ClubId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class ReconciliationDiscrepancyConfiguration : IEntityTypeConfiguration<ReconciliationDiscrepancy>
{
    public void Configure(EntityTypeBuilder<ReconciliationDiscrepancy> builder)
    {
        builder.HasKey(discrepancy => new { discrepancy.RunId, discrepancy.Sequence });
        builder.Property(discrepancy => discrepancy.PartnerId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(discrepancy => discrepancy.OfferId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(discrepancy => discrepancy.ContractId).HasMaxLength(Limits.SlugMaxLength);
        builder.Property(discrepancy => discrepancy.PartnerEventId).HasMaxLength(Limits.PartnerEventIdMaxLength);
        builder.Property(discrepancy => discrepancy.AccountId).HasMaxLength(Limits.LedgerAccountIdMaxLength);
        builder.Property(discrepancy => discrepancy.Detail).HasMaxLength(Limits.DescriptionMaxLength);
        builder.HasIndex(discrepancy => new { discrepancy.RunId, discrepancy.Kind, discrepancy.Sequence });
        builder.HasOne<ReconciliationRun>().WithMany().HasForeignKey(discrepancy => discrepancy.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
