using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AddWatchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Memberships_ClubId_JoinedAt",
                table: "Memberships",
                columns: new[] { "ClubId", "JoinedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Memberships_ClubId_LeftAt",
                table: "Memberships",
                columns: new[] { "ClubId", "LeftAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Households_UpdatedAt",
                table: "Households",
                column: "UpdatedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Memberships_ClubId_JoinedAt",
                table: "Memberships");

            migrationBuilder.DropIndex(
                name: "IX_Memberships_ClubId_LeftAt",
                table: "Memberships");

            migrationBuilder.DropIndex(
                name: "IX_Households_UpdatedAt",
                table: "Households");
        }
    }
}
