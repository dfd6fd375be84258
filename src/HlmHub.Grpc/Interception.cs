namespace HlmHub.Grpc;

/// <summary>The rest of the call pipeline: the next interceptor, or reading requests, running the handler and writing responses.</summary>
/// <param name="context">The call.</param>
public delegate Task ServerCallContinuation(ServerCallContext context);

/// <summary>
/// Wraps every server call, before the request is read: the place for authentication, audit,
/// logging and metrics. Throw <see cref="RpcException"/> to end the call with a status.
/// Registered in DI as <c>IServerCallInterceptor</c>; they run in registration order.
/// </summary>
public interface IServerCallInterceptor
{
    /// <summary>Runs around the call; call <paramref name="next"/> to continue.</summary>
    Task InterceptAsync(ServerCallContext context, ServerCallContinuation next);
}

/// <summary>
/// Checks every method when a service is mapped; throwing fails start-up. Identity uses it to
/// refuse an rpc that declares no security rule (default deny).
/// </summary>
public interface IGrpcMethodValidator
{
    /// <summary>Throws <see cref="InvalidOperationException"/> when <paramref name="method"/> may not be served.</summary>
    void Validate(GrpcMethodDefinition method);
}
