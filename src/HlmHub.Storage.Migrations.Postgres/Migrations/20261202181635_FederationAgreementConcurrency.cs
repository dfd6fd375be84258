using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace HlmHub.Storage.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class FederationAgreementConcurrency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // No schema change: a federation agreement's Status, AcceptedAt and EndedAt became concurrency tokens, which
            // EF Core checks in the WHERE clause of its UPDATE. The migration records that in the model snapshot.
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
