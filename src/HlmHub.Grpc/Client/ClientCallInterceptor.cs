namespace HlmHub.Grpc.Client;

/// <summary>
/// Runs before a call is sent; add request metadata to <see cref="ClientCallContext.RequestHeaders"/>
/// or throw <see cref="RpcException"/> to fail the call with that status. Any other exception fails the
/// call with UNAVAILABLE, as grpc does when call credentials cannot be obtained.
/// </summary>
/// <param name="context">The call about to start.</param>
/// <param name="cancellationToken">Cancelled when the call is cancelled or its deadline passes.</param>
public delegate ValueTask ClientCallInterceptor(ClientCallContext context, CancellationToken cancellationToken);

/// <summary>What a <see cref="ClientCallInterceptor"/> knows about the call about to start.</summary>
public sealed class ClientCallContext
{
    internal ClientCallContext(Uri address, string path, string serviceName, string methodName, MethodType type, DateTime? deadline, Metadata requestHeaders)
    {
        Address = address;
        Method = path;
        ServiceName = serviceName;
        MethodName = methodName;
        Type = type;
        Deadline = deadline;
        RequestHeaders = requestHeaders;
    }

    /// <summary>The channel's address.</summary>
    public Uri Address { get; }

    /// <summary>The HTTP/2 path, e.g. <c>/hlmhub.v1.AdminService/CreateClub</c>.</summary>
    public string Method { get; }

    /// <summary>The full service name.</summary>
    public string ServiceName { get; }

    /// <summary>The method name.</summary>
    public string MethodName { get; }

    /// <summary>The call shape.</summary>
    public MethodType Type { get; }

    /// <summary>The call's deadline (UTC), if any.</summary>
    public DateTime? Deadline { get; }

    /// <summary>The metadata that will be sent: a copy of the call's headers, free to modify.</summary>
    public Metadata RequestHeaders { get; }
}
