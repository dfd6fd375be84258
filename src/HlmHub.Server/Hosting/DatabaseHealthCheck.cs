using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The hub is healthy when its database answers and every migration is applied: an instance on a schema older
/// than its code must not receive traffic. Reported by grpc.health.v1 and by <c>GET /healthz</c>.
/// </summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<HlmHubDbContext> dbContextFactory, IDatabaseMigrator migrator) : IHealthCheck
{
    public const string Name = "database";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return HealthCheckResult.Unhealthy("The database is not reachable.");
        }

        var pending = (await migrator.GetPendingMigrationsAsync(cancellationToken)).Count;
        return pending == 0
            ? HealthCheckResult.Healthy("The database is reachable and its schema is up to date.")
            : HealthCheckResult.Unhealthy($"{pending} migration(s) are not applied yet.");
    }
}
