using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class CaseSensitiveReferencesAndClientIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // No change here: this provider compares text case-sensitively already. SQL Server's migration gives
            // Households.LandlordReference and OpenIddictApplications.ClientId a binary collation; the snapshot records it.
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
