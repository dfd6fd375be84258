using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class ReconciliationRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ReconciliationRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    ClubId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    Period = table.Column<int>(type: "int", nullable: false),
                    StartedBy = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    StartedAt = table.Column<long>(type: "bigint", nullable: false),
                    DurationMilliseconds = table.Column<long>(type: "bigint", nullable: false),
                    PeriodClosed = table.Column<bool>(type: "bit", nullable: false),
                    InputsFingerprint = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: false),
                    Redemptions = table.Column<long>(type: "bigint", nullable: false),
                    Cancellations = table.Column<long>(type: "bigint", nullable: false),
                    DiscountTotal = table.Column<long>(type: "bigint", nullable: false),
                    PurchaseTotal = table.Column<long>(type: "bigint", nullable: false),
                    Statements = table.Column<long>(type: "bigint", nullable: false),
                    LedgerTransactions = table.Column<long>(type: "bigint", nullable: false),
                    DiscrepancyTotal = table.Column<long>(type: "bigint", nullable: false),
                    DiscrepanciesRecorded = table.Column<long>(type: "bigint", nullable: false),
                    CountsByKind = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReconciliationRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ReconciliationRuns_Clubs_ClubId",
                        column: x => x.ClubId,
                        principalTable: "Clubs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ReconciliationDiscrepancies",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Sequence = table.Column<int>(type: "int", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    PartnerId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    OfferId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    ContractId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    PartnerEventId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    AccountId = table.Column<string>(type: "nvarchar(250)", maxLength: 250, nullable: true),
                    ExpectedCents = table.Column<long>(type: "bigint", nullable: false),
                    ActualCents = table.Column<long>(type: "bigint", nullable: false),
                    ExpectedCount = table.Column<long>(type: "bigint", nullable: false),
                    ActualCount = table.Column<long>(type: "bigint", nullable: false),
                    Detail = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReconciliationDiscrepancies", x => new { x.RunId, x.Sequence });
                    table.ForeignKey(
                        name: "FK_ReconciliationDiscrepancies_ReconciliationRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ReconciliationRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ReconciliationDiscrepancies_RunId_Kind_Sequence",
                table: "ReconciliationDiscrepancies",
                columns: new[] { "RunId", "Kind", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_ReconciliationRuns_ClubId_Period_StartedAt",
                table: "ReconciliationRuns",
                columns: new[] { "ClubId", "Period", "StartedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ReconciliationDiscrepancies");

            migrationBuilder.DropTable(
                name: "ReconciliationRuns");
        }
    }
}
