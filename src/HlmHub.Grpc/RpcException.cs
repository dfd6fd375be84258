namespace HlmHub.Grpc;

/// <summary>
/// A call ended with a non-OK status. On the server, throwing it from a handler ends the call with
/// that status (and trailers); on the client, it is what a failed call throws.
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates the exception for <paramref name="status"/>.</summary>
    public RpcException(Status status)
        : this(status, new Metadata())
    {
    }

    /// <summary>Creates the exception for <paramref name="status"/> with trailers to send or that were received.</summary>
    public RpcException(Status status, Metadata trailers)
        : base(status.ToString())
    {
        Status = status;
        Trailers = trailers;
    }

    /// <summary>Creates the exception from a code and detail.</summary>
    public RpcException(StatusCode statusCode, string detail)
        : this(new Status(statusCode, detail))
    {
    }

    /// <summary>The status of the call.</summary>
    public Status Status { get; }

    /// <summary>Shortcut to <see cref="Status"/>'s code.</summary>
    public StatusCode StatusCode => Status.StatusCode;

    /// <summary>Trailing metadata.</summary>
    public Metadata Trailers { get; }
}
