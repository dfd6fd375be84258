using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OverdueFees : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "OverdueFees",
                columns: table => new
                {
                    ContractId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    DueDate = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    ClubId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    PartnerId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    PayBy = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Outstanding = table.Column<long>(type: "INTEGER", nullable: false),
                    DetectedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OverdueFees", x => new { x.ContractId, x.DueDate });
                    table.ForeignKey(
                        name: "FK_OverdueFees_Contracts_ContractId",
                        column: x => x.ContractId,
                        principalTable: "Contracts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OverdueFees_ClubId",
                table: "OverdueFees",
                column: "ClubId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "OverdueFees");
        }
    }
}
