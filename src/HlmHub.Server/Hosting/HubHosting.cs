using System.Globalization;
using System.Threading.RateLimiting;
using HlmHub.Identity;
using HlmHub.Identity.Authorization;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using HlmHub.Server.Hosting.Telemetry;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The hub's platform on ASP.NET Core and grpc-dotnet: the two Kestrel endpoints and their limits, gRPC with
/// its limits and interceptors, reflection, health (grpc.health.v1, <c>GET /healthz</c>, <c>/health/live</c> and
/// <c>/health/ready</c>), telemetry, the bound on anonymous calls, and the middleware order. Features only map their services.
/// </summary>
internal static class HubHosting
{
    /// <summary>The rate-limiter policy bounding what one address can hold open on the anonymous streams (health <c>Watch</c>, reflection).</summary>
    public const string AnonymousCallsPolicy = "anonymous-calls";

    /// <summary>
    /// The same bound, counted apart, on the health probes (<c>/health/live</c>, <c>/health/ready</c>, <c>/healthz</c>,
    /// <c>grpc.health.v1.Health/Check</c>): streams a stranger holds open never make the probes of a load balancer or an
    /// orchestrator answer 429 from the same address (behind a proxy, every caller's).
    /// </summary>
    public const string AnonymousProbesPolicy = "anonymous-probes";

    public static WebApplicationBuilder AddHubHosting(this WebApplicationBuilder builder)
    {
        // First: a bad setting found from here on ends the process with one line, not a stack trace.
        ConfigurationErrors.ExitOnConfigurationError();
        var section = builder.Configuration.GetSection(HubHostOptions.SectionName);
        builder.Services.AddOptions<HubHostOptions>()
            .Bind(section)
            .ValidateSettings(HubHostOptions.SectionName, static (check, options) => options.Check(check))
            .ValidateOnStart();
        // Kestrel and gRPC read their limits while the host is built, before options could be resolved.
        var limits = section.Get<HubHostOptions>() ?? new HubHostOptions();

        var endpoints = new HubEndpoints();
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton<IHttpEndpointAddress>(endpoints);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Valid values only: Kestrel's setters throw on the others while the host is built, a stack trace where
            // the options' check (UseHubPlatform) refuses the start with one line naming every bad setting.
            if (limits.IsValid())
            {
                kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
                kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSizeBytes;
                kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
                kestrel.Limits.Http2.KeepAlivePingDelay = limits.KeepAlivePingDelay;
                kestrel.Limits.Http2.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;
            }

            // The standard endpoint configuration (Kestrel:Endpoints:Grpc and :Http, defaults in appsettings.json),
            // with each named endpoint captured to route requests and to know the issuer's URL.
            var kestrelSection = context.Configuration.GetSection("Kestrel");
            if (HubEndpoints.IsSinglePort(kestrelSection))
            {
                // Both names on one URL (TLS, Http1AndHttp2: ALPN picks h2 or http/1.1): Kestrel would bind the port
                // twice and fail, so it binds the Grpc endpoint alone, which then serves every route and is the issuer's.
                kestrel.Configure(HubEndpoints.WithoutHttpEndpoint(kestrelSection), reloadOnChange: false)
                    .Endpoint(HubEndpoints.GrpcName, endpoint =>
                    {
                        endpoints.Capture(HubEndpoints.GrpcName, endpoint.ListenOptions, endpoint.ConfigSection["Url"], endpoint.IsHttps);
                        endpoints.Capture(HubEndpoints.HttpName, endpoint.ListenOptions, endpoint.ConfigSection["Url"], endpoint.IsHttps);
                    });
                return;
            }

            kestrel.Configure(kestrelSection, reloadOnChange: false)
                .Endpoint(HubEndpoints.GrpcName, endpoint => endpoints.Capture(HubEndpoints.GrpcName, endpoint.ListenOptions, endpoint.ConfigSection["Url"], endpoint.IsHttps))
                .Endpoint(HubEndpoints.HttpName, endpoint => endpoints.Capture(HubEndpoints.HttpName, endpoint.ListenOptions, endpoint.ConfigSection["Url"], endpoint.IsHttps));
        });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = limits.ShutdownDrainTimeout);

        // grpc-dotnet logs, at Error in this category, every request message it cannot decode (a client's
        // garbage): any client could flood the error log. Handler failures, the errors that matter, are logged by
        // ErrorMappingInterceptor (event 1010) instead, so this category is kept for critical entries only.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Critical);

        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = limits.MaxMessageSizeBytes;
            options.MaxSendMessageSize = limits.MaxMessageSizeBytes;
            options.EnableDetailedErrors = false;
            options.ResponseCompressionAlgorithm = limits.ResponseCompression.Length == 0 ? null : limits.ResponseCompression;
            // Outermost first: statuses are mapped around everything, the caller is attached around the handler.
            options.Interceptors.Add<ErrorMappingInterceptor>();
            options.AddHlmHubCallerInterceptor();
        }).AddJsonTranscoding(); // the rpcs with an HTTP rule (google.api.http) as JSON on the Http endpoint

        builder.Services.AddSingleton<ErrorMappingInterceptor>();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks()
            .AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name, failureStatus: null, tags: [HealthEndpoints.ReadyTag]);
        // Every check's time-out (Hub:HealthCheckTimeout), this one's included, is set in one place.
        builder.Services.AddSingleton<IPostConfigureOptions<HealthCheckServiceOptions>, BoundedHealthChecks>();
        // Traces, metrics (with the hub's own meter) and OTLP export when configured (Hosting/Telemetry).
        builder.AddHubTelemetry();

        builder.Services.AddRateLimiter(options =>
        {
            // Every authenticated caller, on every route: Hub:CallsPerSecondPerCaller after Hub:CallBurstPerCaller.
            options.GlobalLimiter = CallerRateLimits.Create(limits.CallsPerSecondPerCaller, limits.CallBurstPerCaller);
            foreach (var policy in new[] { AnonymousCallsPolicy, AnonymousProbesPolicy })
            {
                // Per address, an IPv6 /64 counting as one, as for failed authentications.
                options.AddPolicy(policy, context => RateLimitPartition.GetConcurrencyLimiter(
                    AddressPartitions.Key(context.Connection.RemoteIpAddress),
                    _ => new ConcurrencyLimiterOptions { PermitLimit = limits.MaxAnonymousCallsPerAddress, QueueLimit = 0 }));
            }

            options.OnRejected = (context, cancellationToken) => RefuseAsync(context, limits, cancellationToken);
        });
        return builder;
    }

    /// <summary>The middleware, in order: route, keep each route on its endpoint, authenticate, bound anonymous calls, authorize.</summary>
    public static WebApplication UseHubPlatform(this WebApplication app)
    {
        // Every ValidateOnStart check, now rather than inside the host's start, which would log the failure with its
        // stack trace first: a bad setting ends here with the one line of ConfigurationErrors. First of all, before
        // any one section's options are read below: that read would fail on its own section's settings alone, and
        // hide the bad settings of the others.
        app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
        var endpoints = app.Services.GetRequiredService<HubEndpoints>();
        var maxJsonBodyBytes = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HubHostOptions>>().Value.MaxMessageSizeBytes;
        app.UseRouting();
        app.Use((context, next) =>
        {
            var endpoint = context.GetEndpoint();
            var transcoded = endpoint?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null;
            if ((ServedOn(endpoint, transcoded) is { } servedOn && !endpoints.Serves(servedOn, context.Connection.LocalPort))
                // A plain HTTP request (not gRPC) that nothing routes, on either port (discovery asked on the gRPC
                // port, a mistyped path): not found, whoever asks. Left to authorization, the default-deny policy
                // would answer 401 and log a refused call for a path that serves nothing. gRPC requests keep their
                // gRPC answers.
                || (endpoint is null
                    && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true))
            {
                context.SetEndpoint(null);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return transcoded && LimitJsonBody(context, maxJsonBodyBytes) is { } refused ? refused : next(context);
        });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// A JSON-transcoded request is one message: it is held to <c>Hub:MaxMessageSizeBytes</c>, as the same rpc over
    /// gRPC is, not to Kestrel's default body limit (30 MB). A body declared larger is answered at once with 413 and the
    /// JSON error body of the transcoded rpcs (RESOURCE_EXHAUSTED); one that turns out larger while it is read fails
    /// with Kestrel's "Request body too large" (400), before the rpc runs.
    /// </summary>
    private static Task? LimitJsonBody(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return RefuseJsonBodyAsync(context, $"The request body is {context.Request.ContentLength} bytes; Hub:MaxMessageSizeBytes is {maxBytes}.");
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxBytes;
        }

        return null;
    }

    private static Task RefuseJsonBodyAsync(HttpContext context, string message) =>
        WriteJsonErrorAsync(context, StatusCodes.Status413PayloadTooLarge, Grpc.Core.StatusCode.ResourceExhausted, message, context.RequestAborted);

    /// <summary>An answer in the error body of the transcoded rpcs: google.rpc.Status as JSON.</summary>
    private static async Task WriteJsonErrorAsync(HttpContext context, int httpStatus, Grpc.Core.StatusCode code, string message, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new System.Text.Json.Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteNumber("code", (int)code);
        json.WriteString("message", message);
        json.WriteStartArray("details");
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// A call the rate limiter refused: RESOURCE_EXHAUSTED over gRPC (clients do not retry it blindly), 429 over HTTP,
    /// with the JSON error body on a transcoded rpc. Only the per-caller bucket says when to retry
    /// (<c>grpc-retry-pushback-ms</c>, <c>Retry-After</c>); the anonymous bounds count open calls, which end when they end.
    /// </summary>
    private static ValueTask RefuseAsync(OnRejectedContext context, HubHostOptions limits, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var overRate = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        var retrySeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        var message = overRate
            ? $"Too many calls from this client: at most {limits.CallsPerSecondPerCaller} a second (Hub:CallsPerSecondPerCaller) "
                + $"after a burst of {limits.CallBurstPerCaller} (Hub:CallBurstPerCaller); retry in {retrySeconds} s."
            : $"Too many calls to anonymous services from this address (at most {limits.MaxAnonymousCallsPerAddress} at once).";
        if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            // A Trailers-Only gRPC answer.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)Grpc.Core.StatusCode.ResourceExhausted).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = HlmHub.Identity.Authorization.GrpcStatusMessage.Encode(message);
            if (overRate)
            {
                // gRPC's retry pushback: a client whose retry policy covers RESOURCE_EXHAUSTED waits this long.
                response.Headers["grpc-retry-pushback-ms"] = (retrySeconds * 1000L).ToString(CultureInfo.InvariantCulture);
            }

            return ValueTask.CompletedTask;
        }

        if (overRate)
        {
            response.Headers.RetryAfter = retrySeconds.ToString(CultureInfo.InvariantCulture);
        }

        if (http.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null)
        {
            return new ValueTask(WriteJsonErrorAsync(http, StatusCodes.Status429TooManyRequests, Grpc.Core.StatusCode.ResourceExhausted, message, cancellationToken));
        }

        // The HTTP health endpoints and the identity routes: a plain 429.
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The endpoint a route is served on. A JSON-transcoded rpc is mapped with its service (in the gRPC group) but is
    /// plain HTTP/1.1 JSON: it is served on the Http endpoint, where ordinary HTTP clients are.
    /// </summary>
    private static HubEndpointKind? ServedOn(Endpoint? endpoint, bool transcoded) =>
        transcoded ? HubEndpointKind.Http : endpoint?.Metadata.GetMetadata<ServedOnMetadata>()?.Kind;

    /// <summary>
    /// Maps the standard services and the HTTP endpoints, lets <paramref name="mapFeatures"/> map the hub's
    /// services, then checks that every rpc declares its security contract (start-up fails otherwise).
    /// </summary>
    public static WebApplication MapHubPlatform(this WebApplication app, Action<IEndpointRouteBuilder> mapFeatures)
    {
        var grpc = app.MapGroup("").WithMetadata(new ServedOnMetadata(HubEndpointKind.Grpc));
        // Check is a probe; Watch a stream that stays open: each counted against its own bound.
        grpc.MapGrpcHealthChecksService().AllowAnonymous().Add(endpoint => endpoint.Metadata.Add(new EnableRateLimitingAttribute(
            endpoint.Metadata.OfType<Grpc.AspNetCore.Server.GrpcMethodMetadata>().FirstOrDefault()?.Method.Type == Grpc.Core.MethodType.Unary
                ? AnonymousProbesPolicy : AnonymousCallsPolicy)));
        grpc.MapGrpcReflectionService().AllowAnonymous().RequireRateLimiting(AnonymousCallsPolicy);
        mapFeatures(grpc);

        var http = app.MapGroup("").WithMetadata(new ServedOnMetadata(HubEndpointKind.Http)).AllowAnonymous();
        http.MapHlmHubIdentityEndpoints();
        http.MapHealthChecks("/healthz").RequireRateLimiting(AnonymousProbesPolicy);
        http.MapHubHealthEndpoints();

        app.VerifyEveryRpcDeclaresItsPolicy();
        return app;
    }
}
