using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>
/// The <c>scheduler</c> health check: Quartz's own check (scheduler started, store answering and, on a clustered
/// store, this node checked in within three check-in intervals), except while the hub is still starting. Quartz's
/// hosted service starts the scheduler during host start-up, and the health publisher may run its first round before
/// that finishes on a slow machine: a scheduler that is about to start reads as degraded then, not unhealthy (an
/// unhealthy check is logged as an error). A scheduler that fails to start stops the hub, so "not started" after
/// start-up still reads as unhealthy through Quartz's check.
/// </summary>
internal sealed class SchedulerHealthCheck(IHealthCheck quartz, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        lifetime.ApplicationStarted.IsCancellationRequested
            ? quartz.CheckHealthAsync(context, cancellationToken)
            : Task.FromResult(HealthCheckResult.Degraded("The hub is starting; the scheduler starts with it."));

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
