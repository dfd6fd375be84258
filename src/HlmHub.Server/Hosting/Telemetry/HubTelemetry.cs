using HlmHub.Observability;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HlmHub.Server.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry for the hub: traces of ASP.NET Core (every gRPC call and HTTP request), outgoing HttpClient and
/// gRPC calls (an external issuer's discovery and JWKS); metrics of ASP.NET Core, Kestrel, the runtime and the hub's
/// own meter (<see cref="HubMetrics"/>). Exported over OTLP only when an endpoint is configured
/// (<see cref="TelemetryOptions"/>); without one, the same meters are still readable with <c>dotnet-counters</c>.
/// Logs carry the current trace and span ids as a scope (the host's ActivityTrackingOptions), which the console
/// shows with <c>Logging:Console:FormatterOptions:IncludeScopes</c> and the JSON formatter writes as fields.
/// </summary>
internal static class HubTelemetry
{
    public static WebApplicationBuilder AddHubTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TelemetryOptions.SectionName);
        builder.Services.AddOptions<TelemetryOptions>()
            .Bind(section)
            .ValidateSettings(TelemetryOptions.SectionName, static (check, options) => check
                .Rule(options.OtlpEndpoint.Length == 0 || IsHttpUrl(options.OtlpEndpoint), nameof(options.OtlpEndpoint), "must be empty or an absolute http(s) URL")
                .OneOf(nameof(options.OtlpProtocol), options.OtlpProtocol, TelemetryOptions.GrpcProtocol, TelemetryOptions.HttpProtobufProtocol)
                .Rule(!string.IsNullOrWhiteSpace(options.ServiceName), nameof(options.ServiceName), "must not be empty"))
            .ValidateOnStart();
        // Read now: the exporters are chosen while the host is built. A bad value is reported by the validation above.
        var settings = section.Get<TelemetryOptions>() ?? new TelemetryOptions();

        // Trace and span ids on every log written inside a request (the web host's default, stated because logs rely on it).
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Services.AddHubMetrics();

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                string.IsNullOrWhiteSpace(settings.ServiceName) ? "hlmhub" : settings.ServiceName,
                serviceVersion: typeof(HubTelemetry).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddGrpcClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(HubMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());

        if (IsHttpUrl(settings.OtlpEndpoint))
        {
            telemetry.WithLogging().UseOtlpExporter(
                settings.OtlpProtocol == TelemetryOptions.HttpProtobufProtocol ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc,
                new Uri(settings.OtlpEndpoint));
        }
        else if (!string.IsNullOrWhiteSpace(builder.Configuration[TelemetryOptions.StandardEndpointKey]))
        {
            // The exporter reads the standard variables itself (endpoint, protocol, headers, intervals).
            telemetry.WithLogging().UseOtlpExporter();
        }

        return builder;
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
