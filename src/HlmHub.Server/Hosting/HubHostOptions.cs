namespace HlmHub.Server.Hosting;

/// <summary>
/// Host-level limits, bound from the <c>Hub</c> configuration section and validated at start-up. Every limit has
/// a named default; docs/transport.md lists the keys.
/// </summary>
internal sealed class HubHostOptions
{
    public const string SectionName = "Hub";

    /// <summary>Default of <see cref="MaxMessageSizeBytes"/>: 4 MiB, gRPC's customary limit.</summary>
    public const int DefaultMaxMessageSizeBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The smallest <see cref="MaxMessageSizeBytes"/> the hub starts with (16 KiB): below it, the hub's own messages of
    /// one item (a statement of one line and a few event ids, a reconciliation report with one discrepancy at its
    /// longest) no longer fit, and the settings judged against it would be refused in terms of themselves.
    /// </summary>
    public const int MinMaxMessageSizeBytes = 16 * 1024;

    /// <summary>
    /// The largest <see cref="MaxMessageSizeBytes"/> the hub starts with (64 MiB): gRPC and the JSON routes hold a whole
    /// message in memory before decoding it, so every authenticated caller could make the hub hold this much per call.
    /// </summary>
    public const int MaxMaxMessageSizeBytes = 64 * 1024 * 1024;

    /// <summary>
    /// <c>Hub:ShutdownDrainTimeout</c>: how long a stopping hub waits for in-flight calls to finish before aborting
    /// them (default 10 s). New connections are refused as soon as shutdown starts.
    /// </summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>Hub:MaxStreamsPerConnection</c>: concurrent HTTP/2 streams (calls) per connection (default 100, Kestrel's).</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary><c>Hub:MaxRequestHeadersTotalSizeBytes</c>: largest request header block (default 16 KiB): bounds metadata size.</summary>
    public int MaxRequestHeadersTotalSizeBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// <c>Hub:MaxMessageSizeBytes</c>: largest message received or sent (default 4 MiB). A larger request, declared
    /// or after decompression, ends with RESOURCE_EXHAUSTED; so does a response the hub would send larger.
    /// </summary>
    public int MaxMessageSizeBytes { get; set; } = DefaultMaxMessageSizeBytes;

    /// <summary>
    /// <c>Hub:ResponseCompression</c>: <c>gzip</c> to compress responses for clients that accept it, or empty
    /// (default) to send them uncompressed: the hub's responses are small, and compressing them costs CPU on every
    /// call. Compressed requests (gzip) are always accepted.
    /// </summary>
    public string ResponseCompression { get; set; } = "";

    /// <summary>
    /// <c>Hub:MaxConcurrentConnections</c>: open connections the hub accepts across its endpoints (default 1,000);
    /// further connections are closed at once.
    /// </summary>
    public long MaxConcurrentConnections { get; set; } = 1_000;

    /// <summary>
    /// <c>Hub:KeepAlivePingDelay</c>: after this long without receiving a frame on an HTTP/2 connection, the hub
    /// sends a ping (default 60 s), so dead peers and half-open connections behind load balancers are found.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>Hub:KeepAlivePingTimeout</c>: a connection whose ping gets no answer within this time is closed (default 20 s).</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// <c>Hub:MaxAnonymousCallsPerAddress</c>: calls to the anonymous services (health, including <c>Watch</c>
    /// streams, and reflection) one remote address may have open at once (default 8). Further calls end with
    /// RESOURCE_EXHAUSTED: a stranger cannot hold open more than this.
    /// </summary>
    public int MaxAnonymousCallsPerAddress { get; set; } = 8;

    /// <summary>
    /// <c>Hub:CallsPerSecondPerCaller</c>: calls one authenticated caller (one client of one issuer) may start per
    /// second on this instance, unary or streaming (a stream counts once, when it opens), once its burst is spent
    /// (default 500). Further calls end with RESOURCE_EXHAUSTED (429 over HTTP/JSON) saying when to retry.
    /// </summary>
    public int CallsPerSecondPerCaller { get; set; } = 500;

    /// <summary><c>Hub:CallBurstPerCaller</c>: calls one caller may start at once before that rate applies (default 1,000).</summary>
    public int CallBurstPerCaller { get; set; } = 1_000;

    /// <summary>
    /// <c>Hub:HealthCheckTimeout</c>: how long one health check (the database's, the scheduler's) may take before it
    /// counts as unhealthy (default 5 s), so a hung database makes <c>/health/ready</c> answer 503, not hang.
    /// </summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>Hub:MaxMessageSizeBytes</c> as configured, for the settings that must fit it (a Watch page, a statement), or
    /// null when it is not a valid value: its own check reports that, and the others are not judged against it.
    /// </summary>
    public static int? MessageSizeIn(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        try
        {
            var configured = configuration.GetSection(SectionName).Get<HubHostOptions>() ?? new HubHostOptions();
            return configured.MaxMessageSizeBytes is >= MinMaxMessageSizeBytes and <= MaxMaxMessageSizeBytes ? configured.MaxMessageSizeBytes : null;
        }
        catch (InvalidOperationException)
        {
            // A value the binder cannot convert: reported with the binder's own sentence.
            return null;
        }
    }

    /// <summary>Whether every setting passes <see cref="Check"/>.</summary>
    public bool IsValid()
    {
        var checks = new SettingChecks(SectionName);
        Check(checks);
        return checks.Result.Succeeded;
    }

    public void Check(SettingChecks check) => check
        .NotNegative(nameof(ShutdownDrainTimeout), ShutdownDrainTimeout)
        .Positive(nameof(MaxStreamsPerConnection), MaxStreamsPerConnection)
        .Positive(nameof(MaxRequestHeadersTotalSizeBytes), MaxRequestHeadersTotalSizeBytes)
        .InRange(nameof(MaxMessageSizeBytes), MaxMessageSizeBytes, MinMaxMessageSizeBytes, MaxMaxMessageSizeBytes)
        .OneOf(nameof(ResponseCompression), ResponseCompression, "", "gzip")
        .Positive(nameof(MaxConcurrentConnections), MaxConcurrentConnections)
        .Positive(nameof(KeepAlivePingDelay), KeepAlivePingDelay)
        .Positive(nameof(KeepAlivePingTimeout), KeepAlivePingTimeout)
        .Positive(nameof(MaxAnonymousCallsPerAddress), MaxAnonymousCallsPerAddress)
        .Positive(nameof(CallsPerSecondPerCaller), CallsPerSecondPerCaller)
        .Positive(nameof(CallBurstPerCaller), CallBurstPerCaller)
        // A caller's bucket holds at most the burst: a smaller burst would cap the rate at itself, unsaid.
        .Rule(
            CallBurstPerCaller >= CallsPerSecondPerCaller,
            nameof(CallBurstPerCaller),
            $"must be at least Hub:CallsPerSecondPerCaller ({CallsPerSecondPerCaller}), or the rate is capped at the burst (it is {CallBurstPerCaller})")
        .Positive(nameof(HealthCheckTimeout), HealthCheckTimeout);
}
