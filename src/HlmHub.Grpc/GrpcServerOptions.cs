namespace HlmHub.Grpc;

/// <summary>Server-wide transport limits and behaviour. Bound from configuration section <c>Grpc:Server</c> in the hub.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted, after decompression (default 4 MiB); larger is RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSizeBytes { get; set; } = Internal.GrpcProtocol.DefaultMaxMessageSizeBytes;

    /// <summary>Largest response message sent (default 4 MiB); larger fails the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSizeBytes { get; set; } = Internal.GrpcProtocol.DefaultMaxMessageSizeBytes;

    /// <summary>Encoding for responses when the client accepts it (default none: compression costs CPU and rarely pays on loopback).</summary>
    public string? ResponseCompressionAlgorithm { get; set; }

    /// <summary>When true, unexpected exceptions' messages are sent to clients (never in production: default false).</summary>
    public bool EnableDetailedErrors { get; set; }
}
