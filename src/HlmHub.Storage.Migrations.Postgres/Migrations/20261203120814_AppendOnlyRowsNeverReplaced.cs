using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyRowsNeverReplaced : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // No change here: PostgreSQL has no REPLACE, and INSERT ... ON CONFLICT DO UPDATE fires the UPDATE triggers
            // that refuse it. SQLite's migration adds BEFORE INSERT triggers. Empty here so that
            // every provider keeps the same migrations (tools/add-migration.sh, MigrationsMatchModelTests).
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
