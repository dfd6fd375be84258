using Microsoft.EntityFrameworkCore.Design;

namespace HlmHub.Storage.Migrations.SqlServer;

/// <summary>
/// What `dotnet ef` uses to build the model for SqlServer (tools/add-migration.sh passes this project as both the
/// migrations and the start-up project). It configures the context exactly as the hub does; the connection string is
/// never opened when adding a migration or generating a script.
/// </summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<HlmHubDbContext>
{
    public HlmHubDbContext CreateDbContext(string[] args) =>
        new(HlmHubDbContextOptions.Create(StorageProvider.SqlServer, "Server=localhost;Database=hlmhub_design_time;Integrated Security=true;TrustServerCertificate=true"));
}
