using HlmHub.Storage.Migrations.Sqlite.Invariants;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyRowsNeverReplaced : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // REPLACE INTO could rewrite committed ledger entries and month closures: Invariants/ReplaceGuards.cs.
            ReplaceGuards.Create(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            ReplaceGuards.Drop(migrationBuilder);
        }
    }
}
