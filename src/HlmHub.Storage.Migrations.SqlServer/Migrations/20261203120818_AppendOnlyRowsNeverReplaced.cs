using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyRowsNeverReplaced : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // No change here: SQL Server has no REPLACE, and MERGE's updates and deletes fire the triggers that refuse
            // them. SQLite's migration adds BEFORE INSERT triggers. Empty here so that
            // every provider keeps the same migrations (tools/add-migration.sh, MigrationsMatchModelTests).
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
