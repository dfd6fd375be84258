using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc.Internal;

/// <summary>
/// Serves one bound method: checks the request is a gRPC call, runs the interceptors, then the
/// shape-specific part (read, invoke, write), and ends the call with a status. Every exception
/// becomes a status here and only here.
/// </summary>
internal abstract class ServerCallHandler
{
    private readonly ServerCallContinuation _pipeline;

    protected ServerCallHandler(GrpcMethodDefinition method, ServerRuntime runtime)
    {
        Method = method;
        Runtime = runtime;
        ServerCallContinuation pipeline = context => RunCoreAsync((HttpServerCallContext)context);
        // Interceptors wrap the core; the first registered runs outermost.
        for (var i = runtime.Interceptors.Length - 1; i >= 0; i--)
        {
            var interceptor = runtime.Interceptors[i];
            var next = pipeline;
            pipeline = context => interceptor.InterceptAsync(context, next);
        }
        _pipeline = pipeline;
    }

    public GrpcMethodDefinition Method { get; }

    protected ServerRuntime Runtime { get; }

    public async Task HandleAsync(HttpContext httpContext)
    {
        if (!HttpProtocol.IsHttp2(httpContext.Request.Protocol) && !HttpProtocol.IsHttp3(httpContext.Request.Protocol))
        {
            httpContext.Response.Headers.Upgrade = "h2c";
            HttpServerCallContext.WriteTrailersOnly(httpContext, new Status(StatusCode.Internal,
                $"gRPC requires HTTP/2; the request used {httpContext.Request.Protocol}."));
            httpContext.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }
        if (!GrpcProtocol.IsGrpcContentType(httpContext.Request.ContentType))
        {
            GrpcServerLog.UnsupportedContentType(Runtime.Logger, httpContext.Request.ContentType);
            HttpServerCallContext.WriteTrailersOnly(httpContext, new Status(StatusCode.Internal,
                $"Content-Type '{httpContext.Request.ContentType}' is not supported: use application/grpc."));
            httpContext.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        DisableWholeBodyLimits(httpContext);
        using var context = HttpServerCallContext.TryCreate(httpContext, Method, Runtime.Options, Runtime.Logger, Runtime.TimeProvider);
        if (context is null)
        {
            return;
        }
        Status status;
        try
        {
            await _pipeline(context);
            status = context.DeadlineExceeded
                ? new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.")
                : context.Status;
        }
        catch (Exception exception)
        {
            status = StatusFromException(exception, context);
        }
        if (status.StatusCode != StatusCode.OK)
        {
            GrpcServerLog.CallEndedWithStatus(Runtime.Logger, Method.Path, status.StatusCode, status.Detail);
        }
        context.Complete(status);
    }

    /// <summary>
    /// Kestrel limits a request body to 30 MB in total and drops slow uploads; a long-lived gRPC stream
    /// legitimately exceeds both. Memory stays bounded by the per-message limit instead.
    /// </summary>
    private void DisableWholeBodyLimits(HttpContext httpContext)
    {
        var maxBody = httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (maxBody is { IsReadOnly: false })
        {
            maxBody.MaxRequestBodySize = null;
        }
        if (Method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming
            && httpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minimumRate)
        {
            // A client stream may stay idle between messages (e.g. a partner with nothing to redeem).
            minimumRate.MinDataRate = null;
        }
    }

    /// <summary>The one place where exceptions become statuses. Clients never see a stack trace.</summary>
    private Status StatusFromException(Exception exception, HttpServerCallContext context)
    {
        if (context.DeadlineExceeded)
        {
            return new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        }
        if (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            GrpcServerLog.CallCancelledByClient(Runtime.Logger, Method.Path);
            return new Status(StatusCode.Cancelled, "Call cancelled by the client.");
        }
        switch (exception)
        {
            case RpcException rpc:
                foreach (var entry in rpc.Trailers)
                {
                    context.ResponseTrailers.Add(entry);
                }
                return rpc.Status;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new Status(StatusCode.Cancelled, "Call cancelled.");
            default:
                var detail = Runtime.Options.EnableDetailedErrors
                    ? $"Exception was thrown by handler. {exception.GetType().Name}: {exception.Message}"
                    : "Exception was thrown by handler.";
                GrpcServerLog.HandlerFailed(Runtime.Logger, Method.Path, StatusCode.Unknown, exception);
                return new Status(StatusCode.Unknown, detail);
        }
    }

    protected abstract Task RunCoreAsync(HttpServerCallContext context);

    protected object CreateService(HttpContext httpContext) => Runtime.CreateService(Method.ServiceType, httpContext.RequestServices);
}

internal sealed class UnaryServerCallHandler<TService, TRequest, TResponse>(
    GrpcMethodDefinition method, ServerRuntime runtime, Func<TService, TRequest, ServerCallContext, Task<TResponse>> invoker)
    : ServerCallHandler(method, runtime)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    protected override async Task RunCoreAsync(HttpServerCallContext context)
    {
        var request = await context.ReadSingleMessageAsync(Parser, context.CancellationToken);
        var service = (TService)CreateService(context.HttpContext);
        var response = await invoker(service, request, context)
            ?? throw new InvalidOperationException("The handler returned a null response message.");
        // No flush: Kestrel sends headers, the message and the trailers together when the call ends.
        await context.WriteMessageAsync(response, flush: false, context.CancellationToken);
    }
}

internal sealed class ClientStreamingServerCallHandler<TService, TRequest, TResponse>(
    GrpcMethodDefinition method, ServerRuntime runtime, Func<TService, IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>> invoker)
    : ServerCallHandler(method, runtime)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    protected override async Task RunCoreAsync(HttpServerCallContext context)
    {
        var service = (TService)CreateService(context.HttpContext);
        var response = await invoker(service, new HttpRequestStreamReader<TRequest>(context, Parser), context)
            ?? throw new InvalidOperationException("The handler returned a null response message.");
        await context.WriteMessageAsync(response, flush: false, context.CancellationToken);
    }
}

internal sealed class ServerStreamingServerCallHandler<TService, TRequest, TResponse>(
    GrpcMethodDefinition method, ServerRuntime runtime, Func<TService, TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> invoker)
    : ServerCallHandler(method, runtime)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    protected override async Task RunCoreAsync(HttpServerCallContext context)
    {
        var request = await context.ReadSingleMessageAsync(Parser, context.CancellationToken);
        var service = (TService)CreateService(context.HttpContext);
        await invoker(service, request, new HttpResponseStreamWriter<TResponse>(context), context);
    }
}

internal sealed class DuplexStreamingServerCallHandler<TService, TRequest, TResponse>(
    GrpcMethodDefinition method, ServerRuntime runtime, Func<TService, IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> invoker)
    : ServerCallHandler(method, runtime)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    protected override async Task RunCoreAsync(HttpServerCallContext context)
    {
        var service = (TService)CreateService(context.HttpContext);
        await invoker(service, new HttpRequestStreamReader<TRequest>(context, Parser), new HttpResponseStreamWriter<TResponse>(context), context);
    }
}

internal static class CallTokens
{
    /// <summary>
    /// A linked token is only needed when the caller passes a token other than the call's own;
    /// handlers usually pass context.CancellationToken, which then costs no allocation per message.
    /// </summary>
    public static bool NeedsLink(CancellationToken token, CancellationToken callToken) => token.CanBeCanceled && token != callToken;
}

internal sealed class HttpRequestStreamReader<T>(HttpServerCallContext context, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private T? _current;
    private bool _completed;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_completed)
        {
            return CompletedReads.False;
        }
        if (CallTokens.NeedsLink(cancellationToken, context.CancellationToken))
        {
            return MoveNextLinkedAsync(cancellationToken);
        }
        var reading = context.ReadMessageAsync(parser, context.CancellationToken);
        // A message already buffered completes synchronously: no state machine, a cached task.
        return reading.IsCompletedSuccessfully ? (Accept(reading.Result) ? CompletedReads.True : CompletedReads.False) : AwaitReadAsync(reading);
    }

    private async Task<bool> AwaitReadAsync(ValueTask<T?> reading) => Accept(await reading);

    private async Task<bool> MoveNextLinkedAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.CancellationToken);
        return Accept(await context.ReadMessageAsync(parser, linked.Token));
    }

    private bool Accept(T? message)
    {
        _current = message;
        _completed = message is null;
        return !_completed;
    }
}

internal static class CompletedReads
{
    public static readonly Task<bool> True = Task.FromResult(true);
    public static readonly Task<bool> False = Task.FromResult(false);
}

internal sealed class HttpResponseStreamWriter<T>(HttpServerCallContext context) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    private int _writing;

    public WriteOptions? WriteOptions
    {
        get => context.WriteOptions;
        set => context.WriteOptions = value;
    }

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Writes must not overlap: the HTTP/2 stream is one ordered byte stream.
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            throw new InvalidOperationException("A write is already in progress on this response stream: await each WriteAsync.");
        }
        Task writing;
        try
        {
            writing = CallTokens.NeedsLink(cancellationToken, context.CancellationToken)
                ? WriteLinkedAsync(message, cancellationToken)
                : context.WriteMessageAsync(message, flush: true, context.CancellationToken);
        }
        catch
        {
            Volatile.Write(ref _writing, 0);
            throw;
        }
        if (writing.IsCompleted)
        {
            Volatile.Write(ref _writing, 0);
            return writing;
        }
        return AwaitWriteAsync(writing);
    }

    private async Task AwaitWriteAsync(Task writing)
    {
        try
        {
            await writing;
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    private async Task WriteLinkedAsync(T message, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.CancellationToken);
        await context.WriteMessageAsync(message, flush: true, linked.Token);
    }
}
