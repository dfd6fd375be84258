using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Hosting;

/// <summary>
/// Bounds every health check the hub registers (the <c>database</c> check, Quartz's <c>scheduler</c> check, and any a
/// feature adds) by <c>Hub:HealthCheckTimeout</c>, so that a hung database makes readiness answer 503 rather than hang.
/// A time-out on the registration alone is not enough: ASP.NET Core cancels the check's token and then waits for the
/// check to return, and a check blocked in the network does not always look at its token (Npgsql opening a connection
/// to a server that accepted the TCP connection but never answers waits for its own connect time-out, 15 s; Quartz's
/// check, querying its job store, for longer). So the check is awaited only until its token is cancelled, and the probe
/// left running is joined by the next rounds instead of another being started: a hung database holds one probe per
/// check, not one per readiness request.
/// </summary>
internal sealed class BoundedHealthChecks(IOptions<HubHostOptions> limits) : IPostConfigureOptions<HealthCheckServiceOptions>
{
    public void PostConfigure(string? name, HealthCheckServiceOptions options)
    {
        foreach (var registration in options.Registrations.ToList())
        {
            var probe = new SharedProbe();
            var factory = registration.Factory;
            var timeout = registration.Timeout > TimeSpan.Zero ? registration.Timeout : limits.Value.HealthCheckTimeout;
            options.Registrations.Remove(registration);
            options.Registrations.Add(new HealthCheckRegistration(
                registration.Name,
                services => new BoundedHealthCheck(factory(services), probe),
                registration.FailureStatus,
                registration.Tags,
                timeout)
            {
                Delay = registration.Delay,
                Period = registration.Period,
            });
        }
    }

    private sealed class BoundedHealthCheck(IHealthCheck inner, SharedProbe probe) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            probe.RunAsync(() => inner.CheckHealthAsync(context, CancellationToken.None), cancellationToken);
    }

    /// <summary>At most one probe of a check running at a time; each caller waits for it as long as its token allows.</summary>
    private sealed class SharedProbe
    {
        private readonly Lock _lock = new();
        private Task<HealthCheckResult>? _running;

        public Task<HealthCheckResult> RunAsync(Func<Task<HealthCheckResult>> check, CancellationToken cancellationToken)
        {
            Task<HealthCheckResult> running;
            lock (_lock)
            {
                if (_running is null || _running.IsCompleted)
                {
                    // Not cancelled by the caller's time-out: the probe is bounded by the provider's own time-outs,
                    // and a later round may still use its answer.
                    _running = Task.Run(check, CancellationToken.None);
                }

                running = _running;
            }

            return running.WaitAsync(cancellationToken);
        }
    }
}
