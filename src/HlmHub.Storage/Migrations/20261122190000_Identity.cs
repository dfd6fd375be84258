using HlmHub.Storage.Configuration;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations;

/// <summary>The token endpoint's tables: clients, signing keys and the client-assertion replay cache.</summary>
[DbContext(typeof(HlmHubDbContext))]
[Migration("20261122190000_Identity")]
internal sealed class Identity : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "OAuthClients",
            columns: table => new
            {
                ClientId = table.Column<string>(maxLength: ClientAssertionUse.ClientIdMaxLength, nullable: false),
                DisplayName = table.Column<string>(maxLength: 200, nullable: false),
                Kind = table.Column<string>(maxLength: ColumnLengths.EnumName, nullable: false),
                PartnerId = table.Column<string>(maxLength: ColumnLengths.Slug, nullable: true),
                LandlordId = table.Column<string>(maxLength: ColumnLengths.Slug, nullable: true),
                ClubId = table.Column<string>(maxLength: ColumnLengths.Slug, nullable: true),
                AllowedScopes = table.Column<string>(maxLength: ColumnLengths.Scopes, nullable: false),
                SecretHash = table.Column<string>(maxLength: ColumnLengths.SecretHash, nullable: true),
                PublicJwk = table.Column<string>(nullable: true),
                CreatedAt = table.Column<long>(nullable: false),
                DisabledAt = table.Column<long>(nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_OAuthClients", client => client.ClientId));

        migrationBuilder.CreateTable(
            name: "SigningKeys",
            columns: table => new
            {
                KeyId = table.Column<string>(maxLength: SigningKey.KeyIdMaxLength, nullable: false),
                Algorithm = table.Column<string>(maxLength: ColumnLengths.EnumName, nullable: false),
                PrivateKey = table.Column<byte[]>(nullable: false),
                PublicJwk = table.Column<string>(nullable: false),
                CreatedAt = table.Column<long>(nullable: false),
                ActivatesAt = table.Column<long>(nullable: false),
                RetiresAt = table.Column<long>(nullable: true),
                ExpiresAt = table.Column<long>(nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_SigningKeys", key => key.KeyId));

        migrationBuilder.CreateTable(
            name: "ClientAssertionUses",
            columns: table => new
            {
                ClientId = table.Column<string>(maxLength: ClientAssertionUse.ClientIdMaxLength, nullable: false),
                Jti = table.Column<string>(maxLength: ClientAssertionUse.JtiMaxLength, nullable: false),
                ExpiresAt = table.Column<long>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_ClientAssertionUses", use => new { use.ClientId, use.Jti }));

        migrationBuilder.CreateIndex(
            name: "IX_ClientAssertionUses_ExpiresAt",
            table: "ClientAssertionUses",
            column: "ExpiresAt");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "ClientAssertionUses");
        migrationBuilder.DropTable(name: "SigningKeys");
        migrationBuilder.DropTable(name: "OAuthClients");
    }
}
