using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The HTTP health endpoints on the Http endpoint (HTTP/1.1), for load balancers and orchestrators that cannot speak
/// grpc.health.v1: <c>GET /health/live</c> (the process answers; no check runs) and <c>GET /health/ready</c> (every
/// registered check tagged <see cref="ReadyTag"/>: the database, the scheduler, and whatever later features tag so).
/// 200 when healthy or degraded, 503 when unhealthy. Anonymous, bounded like the other anonymous services
/// (<c>Hub:MaxAnonymousCallsPerAddress</c>), and the body says only the status of each check, never its description
/// or exception (which may name hosts, databases or files).
/// </summary>
internal static class HealthEndpoints
{
    public const string LivePath = "/health/live";

    public const string ReadyPath = "/health/ready";

    /// <summary>The tag of the checks that decide whether an instance may receive traffic.</summary>
    public const string ReadyTag = "ready";

    public static void MapHubHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = WriteAsync })
            .RequireRateLimiting(HubHosting.AnonymousProbesPolicy);
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .RequireRateLimiting(HubHosting.AnonymousProbesPolicy);
    }

    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        writer.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            writer.WriteString(name, entry.Status.ToString());
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
