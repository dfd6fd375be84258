using Microsoft.EntityFrameworkCore.Design;

namespace HlmHub.Storage.Migrations.Sqlite;

/// <summary>
/// What `dotnet ef` uses to build the model for Sqlite (tools/add-migration.sh passes this project as both the
/// migrations and the start-up project). It configures the context exactly as the hub does; the connection string is
/// never opened when adding a migration or generating a script.
/// </summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<HlmHubDbContext>
{
    public HlmHubDbContext CreateDbContext(string[] args) =>
        new(HlmHubDbContextOptions.Create(StorageProvider.Sqlite, "Data Source=design-time.db"));
}
