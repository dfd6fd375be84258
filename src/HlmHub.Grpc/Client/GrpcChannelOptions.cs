using HlmHub.Grpc.Internal;

namespace HlmHub.Grpc.Client;

/// <summary>Limits and behaviour of a <see cref="GrpcChannel"/>. Every limit has a named default.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>Default for <see cref="KeepAlivePingTimeout"/>: 20 seconds, as grpc's clients use.</summary>
    public static readonly TimeSpan DefaultKeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The encodings advertised by default in <c>grpc-accept-encoding</c>: identity and gzip.</summary>
    public static readonly IReadOnlyList<string> DefaultAcceptedEncodings = [GrpcProtocol.IdentityEncoding, GrpcProtocol.GzipEncoding];

    /// <summary>Largest response message accepted, after decompression (default 4 MiB); larger fails the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSizeBytes { get; set; } = GrpcProtocol.DefaultMaxMessageSizeBytes;

    /// <summary>Largest request message sent, before compression (default 4 MiB); larger fails the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSizeBytes { get; set; } = GrpcProtocol.DefaultMaxMessageSizeBytes;

    /// <summary>
    /// Encoding for request messages: null (default, no compression) or <c>gzip</c>. The first call of the
    /// channel uses it as configured; later calls use it only if the server advertised it in
    /// <c>grpc-accept-encoding</c>, so a server that cannot inflate gzip never receives it twice.
    /// </summary>
    public string? RequestCompressionAlgorithm { get; set; }

    /// <summary>Encodings the client accepts for responses (default identity and gzip); sent as <c>grpc-accept-encoding</c>.</summary>
    public IList<string> AcceptedEncodings { get; set; } = [.. DefaultAcceptedEncodings];

    /// <summary>
    /// Delay between HTTP/2 PING frames while calls are active, to detect dead connections
    /// (default <see cref="Timeout.InfiniteTimeSpan"/>: no pings, as grpc's clients default to).
    /// Ignored when <see cref="HttpHandler"/> is set.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long to wait for a PING acknowledgement before closing the connection (default 20 s). Ignored when <see cref="HttpHandler"/> is set.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = DefaultKeepAlivePingTimeout;

    /// <summary>
    /// Replaces the default <see cref="SocketsHttpHandler"/> (e.g. to configure TLS client certificates).
    /// The channel does not dispose a handler it was given. It must speak HTTP/2.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Run before every call, in order: they may add request metadata (e.g. <c>authorization: Bearer ...</c>)
    /// or throw <see cref="RpcException"/> to fail the call before it is sent.
    /// </summary>
    public IList<ClientCallInterceptor> Interceptors { get; } = [];

    /// <summary>The clock used for deadlines (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
