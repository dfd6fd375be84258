using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.HasKey(key => key.KeyId);
        builder.Property(key => key.KeyId).HasMaxLength(SigningKey.KeyIdMaxLength);
        builder.Property(key => key.Algorithm).HasMaxLength(ColumnLengths.EnumName);
    }
}

internal sealed class ClientAssertionUseConfiguration : IEntityTypeConfiguration<ClientAssertionUse>
{
    public void Configure(EntityTypeBuilder<ClientAssertionUse> builder)
    {
        builder.HasKey(use => new { use.ClientId, use.Jti });
        builder.Property(use => use.ClientId).HasMaxLength(ClientAssertionUse.ClientIdMaxLength);
        builder.Property(use => use.Jti).HasMaxLength(ClientAssertionUse.JtiMaxLength);
        // The purge of expired assertions scans by expiry.
        builder.HasIndex(use => use.ExpiresAt);
    }
}

internal sealed class IdentityLeaseConfiguration : IEntityTypeConfiguration<IdentityLease>
{
    public void Configure(EntityTypeBuilder<IdentityLease> builder)
    {
        builder.HasKey(lease => lease.Name);
        builder.Property(lease => lease.Name).HasMaxLength(IdentityLease.NameMaxLength);
        builder.Property(lease => lease.Holder).HasMaxLength(IdentityLease.NameMaxLength);
    }
}
