using Microsoft.AspNetCore.Http;

namespace HlmHub.Grpc;

/// <summary>Everything a server handler (or interceptor) knows about the call it serves.</summary>
public abstract class ServerCallContext
{
    /// <summary>The method being called, as bound at start-up.</summary>
    public abstract GrpcMethodDefinition MethodDefinition { get; }

    /// <summary>The HTTP/2 path, e.g. <c>/hlmhub.v1.AdminService/CreateClub</c>.</summary>
    public string Method => MethodDefinition.Path;

    /// <summary>The authority the client called.</summary>
    public abstract string Host { get; }

    /// <summary>The caller's address, e.g. <c>ipv4:127.0.0.1:51234</c>.</summary>
    public abstract string Peer { get; }

    /// <summary>When the call expires (UTC); <see cref="DateTime.MaxValue"/> when the client set no deadline.</summary>
    public abstract DateTime Deadline { get; }

    /// <summary>The client's custom metadata (reserved and pseudo headers excluded).</summary>
    public abstract Metadata RequestHeaders { get; }

    /// <summary>Cancelled when the client cancels, the deadline passes or the server shuts down.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>Trailers sent with the status.</summary>
    public abstract Metadata ResponseTrailers { get; }

    /// <summary>The status to send when the handler returns normally (default OK).</summary>
    public abstract Status Status { get; set; }

    /// <summary>Options applied to the next response messages.</summary>
    public abstract WriteOptions? WriteOptions { get; set; }

    /// <summary>
    /// The encoding used for response messages (e.g. <c>gzip</c>). Only honoured when the client
    /// advertised it in <c>grpc-accept-encoding</c>; must be set before the response headers are sent.
    /// </summary>
    public abstract string? ResponseCompressionAlgorithm { get; set; }

    /// <summary>True when the request message read last arrived with the compressed flag set.</summary>
    public abstract bool LastRequestMessageWasCompressed { get; }

    /// <summary>The underlying HTTP context (connection info, features).</summary>
    public abstract HttpContext HttpContext { get; }

    /// <summary>Per-call state for interceptors and handlers (e.g. the authenticated caller).</summary>
    public abstract IDictionary<object, object?> UserState { get; }

    /// <summary>Sends the response headers now, with <paramref name="responseHeaders"/>; at most once.</summary>
    public abstract Task WriteResponseHeadersAsync(Metadata responseHeaders);
}
