using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HlmHub.Storage.Configuration;

internal sealed class OAuthClientConfiguration : IEntityTypeConfiguration<OAuthClient>
{
    public void Configure(EntityTypeBuilder<OAuthClient> builder)
    {
        builder.HasKey(client => client.ClientId);
        builder.Property(client => client.ClientId).HasMaxLength(OAuthClient.ClientIdMaxLength);
        builder.Property(client => client.DisplayName).HasMaxLength(OAuthClient.DisplayNameMaxLength);
        builder.Property(client => client.Kind).HasConversion<string>().HasMaxLength(ColumnLengths.EnumName);
        builder.Property(client => client.PartnerId).HasMaxLength(ColumnLengths.Slug);
        builder.Property(client => client.LandlordId).HasMaxLength(ColumnLengths.Slug);
        builder.Property(client => client.ClubId).HasMaxLength(ColumnLengths.Slug);
        builder.Property(client => client.AllowedScopes).HasMaxLength(ColumnLengths.Scopes);
        builder.Property(client => client.SecretHash).HasMaxLength(ColumnLengths.SecretHash);
    }
}

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
        builder.Property(use => use.ClientId).HasMaxLength(OAuthClient.ClientIdMaxLength);
        builder.Property(use => use.Jti).HasMaxLength(ClientAssertionUse.JtiMaxLength);
        // The purge of expired assertions scans by expiry.
        builder.HasIndex(use => use.ExpiresAt);
    }
}
