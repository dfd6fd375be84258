using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>
/// The <c>scheduler</c> health check: Quartz's own check (scheduler started, store answering and, on a clustered
/// store, this node checked in within three check-in intervals), except while the hub is starting or stopping. Quartz's
/// hosted service starts the scheduler during host start-up, and the health publisher may run its first round before
/// that finishes on a slow machine; on the way down, it shuts the scheduler down while a round may still run, and
/// Quartz's check then throws. Both read as degraded, not unhealthy: an unhealthy check, or one that throws, is logged
/// as an error, and neither is one. A scheduler that fails to start stops the hub, so "not started" after start-up
/// still reads as unhealthy through Quartz's check.
/// </summary>
internal sealed class SchedulerHealthCheck(IHealthCheck quartz, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded("The hub is starting; the scheduler starts with it.");
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Stopping;
        }

        try
        {
            return await quartz.CheckHealthAsync(context, cancellationToken);
        }
        catch (SchedulerException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The scheduler was shut down while the check ran.
            return Stopping;
        }
    }

    private static HealthCheckResult Stopping => HealthCheckResult.Degraded("The hub is stopping; the scheduler stops with it.");

    /// <summary>Wraps the check Quartz registered under <see cref="HubScheduling.HealthCheckName"/>.</summary>
    internal sealed class Wrapping : IPostConfigureOptions<HealthCheckServiceOptions>
    {
        public void PostConfigure(string? name, HealthCheckServiceOptions options)
        {
            var registration = options.Registrations.Single(registration => registration.Name == HubScheduling.HealthCheckName);
            options.Registrations.Remove(registration);
            options.Registrations.Add(new HealthCheckRegistration(
                registration.Name,
                services => new SchedulerHealthCheck(registration.Factory(services), services.GetRequiredService<IHostApplicationLifetime>()),
                registration.FailureStatus,
                registration.Tags,
                registration.Timeout));
        }
    }
}
