using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class HouseholdStatusChangedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Households_UpdatedAt",
                table: "Households");

            migrationBuilder.AddColumn<long>(
                name: "StatusChangedAt",
                table: "Households",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            // Until now a household's last change is the best known time of its last status change.
            // In EXEC, compiled only when it runs: the idempotent script compiles every step's batch, and a later
            // migration that dropped or renamed the column would otherwise make this step fail to compile. Bracketed
            // names: the statement does not depend on QUOTED_IDENTIFIER (sqlcmd runs without it unless given -I).
            migrationBuilder.Sql("EXEC(N'UPDATE [Households] SET [StatusChangedAt] = [UpdatedAt]');");

            migrationBuilder.CreateIndex(
                name: "IX_Households_StatusChangedAt",
                table: "Households",
                column: "StatusChangedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Households_StatusChangedAt",
                table: "Households");

            migrationBuilder.DropColumn(
                name: "StatusChangedAt",
                table: "Households");

            migrationBuilder.CreateIndex(
                name: "IX_Households_UpdatedAt",
                table: "Households",
                column: "UpdatedAt");
        }
    }
}
