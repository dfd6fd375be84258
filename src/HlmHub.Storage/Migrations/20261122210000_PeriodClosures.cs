using HlmHub.Domain;
using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Migrations;

/// <summary>Closed months per club; closing is final, so the table is append-only.</summary>
[DbContext(typeof(HlmHubDbContext))]
[Migration("20261122210000_PeriodClosures")]
internal sealed class PeriodClosures : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "PeriodClosures",
            columns: table => new
            {
                ClubId = table.Column<string>(maxLength: Limits.SlugMaxLength, nullable: false),
                Period = table.Column<int>(nullable: false),
                ClosedAt = table.Column<long>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_PeriodClosures", row => new { row.ClubId, row.Period });
                table.ForeignKey("FK_PeriodClosures_Clubs_ClubId", row => row.ClubId, "Clubs", "Id", onDelete: ReferentialAction.Restrict);
            });

        StorageProviderAdapter.For(migrationBuilder).CreateAppendOnlyTriggers(migrationBuilder, "PeriodClosures");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        StorageProviderAdapter.For(migrationBuilder).DropAppendOnlyTriggers(migrationBuilder, "PeriodClosures");
        migrationBuilder.DropTable("PeriodClosures");
    }
}
