namespace HlmHub.Server.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry export, bound from <c>Telemetry</c> (docs/configuration.md). Nothing is exported unless an endpoint
/// is configured, here or with the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable.
/// </summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>The standard OpenTelemetry variable naming the OTLP collector (read from any configuration source).</summary>
    public const string StandardEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string GrpcProtocol = "grpc";

    public const string HttpProtobufProtocol = "http/protobuf";

    /// <summary>
    /// <c>Telemetry:OtlpEndpoint</c>: the OTLP collector's base URL (e.g. <c>http://otel-collector:4317</c>); empty (default):
    /// the standard <c>OTEL_EXPORTER_OTLP_*</c> variables decide, and without them nothing is exported.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>Telemetry:OtlpProtocol</c>: <c>grpc</c> (default, port 4317) or <c>http/protobuf</c> (port 4318, paths /v1/traces, /v1/metrics, /v1/logs).</summary>
    public string OtlpProtocol { get; set; } = GrpcProtocol;

    /// <summary><c>Telemetry:ServiceName</c>: the <c>service.name</c> resource attribute of everything exported (default <c>hlmhub</c>).</summary>
    public string ServiceName { get; set; } = "hlmhub";
}
