using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The hub is healthy when its database answers and every migration is applied: an instance on a schema older
/// than its code must not receive traffic. Reported by grpc.health.v1 and by <c>GET /healthz</c>.
/// While the hub is starting, the health publisher may run a round before the start-up migrations have created or
/// updated the schema (on a first start, before the SQLite file exists). That reads as degraded, not unhealthy: an
/// unhealthy check is logged as an error, and a hub creating its database has none. Nothing can call the hub then
/// (Kestrel starts listening after the migrations), and once it has started an unreachable or outdated database
/// reads as unhealthy again.
/// </summary>
internal sealed class DatabaseHealthCheck(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IDatabaseMigrator migrator,
    IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string Name = "database";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var starting = !lifetime.ApplicationStarted.IsCancellationRequested;
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return starting ? Starting : HealthCheckResult.Unhealthy("The database is not reachable.");
        }

        var pending = (await migrator.GetPendingMigrationsAsync(cancellationToken)).Count;
        if (pending == 0)
        {
            return HealthCheckResult.Healthy("The database is reachable and its schema is up to date.");
        }

        return starting ? Starting : HealthCheckResult.Unhealthy($"{pending} migration(s) are not applied yet.");
    }

    private static HealthCheckResult Starting => HealthCheckResult.Degraded("The hub is starting; its database schema is being created or brought up to date.");
}
