using Microsoft.EntityFrameworkCore.Design;

namespace HlmHub.Storage.Migrations.Postgres;

/// <summary>
/// What `dotnet ef` uses to build the model for Postgres (tools/add-migration.sh passes this project as both the
/// migrations and the start-up project). It configures the context exactly as the hub does; the connection string is
/// never opened when adding a migration or generating a script.
/// </summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<HlmHubDbContext>
{
    public HlmHubDbContext CreateDbContext(string[] args) =>
        new(HlmHubDbContextOptions.Create(StorageProvider.Postgres, "Host=localhost;Database=hlmhub_design_time"));
}
