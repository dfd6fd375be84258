namespace HlmHub.Server.Hosting;

/// <summary>Host-level limits, bound from the <c>Hub</c> configuration section.</summary>
internal sealed class HubHostOptions
{
    public const string SectionName = "Hub";

    /// <summary>
    /// How long a stopping hub waits for in-flight calls to finish before aborting them (default 10 s).
    /// New calls are refused as soon as shutdown starts.
    /// </summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Concurrent HTTP/2 streams per connection (default 100, Kestrel's): the in-flight window per client connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Largest request header block in bytes (default 16 KiB): bounds metadata size.</summary>
    public int MaxRequestHeadersTotalSizeBytes { get; set; } = 16 * 1024;
}
