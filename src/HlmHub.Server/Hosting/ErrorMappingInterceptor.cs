using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using HlmHub.Domain;
using HlmHub.Identity;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Server.Hosting;

/// <summary>
/// The one place where exceptions become gRPC statuses, for every service: a domain rule refusing a request
/// (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND or RESOURCE_EXHAUSTED by its kind, message "field: rule"
/// with the field in the proto's snake_case), the
/// client registry refusing a registration, a unique index refusing a write that a concurrent call made first
/// (ABORTED: the caller retries and gets the precise answer), a ledger booking refused because the club closed its month
/// meanwhile (ABORTED: the retry books it in the next open month), a streamed request message that cannot be decoded
/// (INTERNAL, the client's fault, so no error log). Anything else is a bug or broken infrastructure:
/// logged with its stack trace, answered INTERNAL with a fixed message (the client never sees the trace). Runs
/// outermost, around the caller interceptor and the handler.
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception exception) when (Map(exception, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception exception) when (Map(exception, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception exception) when (Map(exception, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception exception) when (Map(exception, context) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>The status an exception becomes, or null to let it through unchanged (a status already, or a cancelled call).</summary>
    private RpcException? Map(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case RpcException:
                return null;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                // The client went away or the deadline passed: grpc-dotnet answers CANCELLED or DEADLINE_EXCEEDED.
                return null;
            case InvalidOperationException when context.CancellationToken.IsCancellationRequested:
                // The same, seen from a write: when a deadline passes, grpc-dotnet completes the response while the
                // handler may still be writing (health Watch sending its first status), and Kestrel refuses the write.
                // The call has already ended with its status; nothing went wrong on the server, so no error log.
                return null;
            case IOException when ClientWentAway(context):
                // The client reset its stream or closed the connection while the handler read from it (a landlord's
                // roster stream that broke): nothing to answer and nothing wrong on the server, so no error log.
                LogClientWentAway(logger, context.Method);
                return new RpcException(new Status(StatusCode.Cancelled, "The client went away."));
            case Exception when IsRequestReadFailure(exception):
                // A streamed request message that cannot be decoded (broken framing, a negative length, bad
                // protobuf) is the client's fault: no error log, which any client could flood.
                LogUndecodableMessage(logger, context.Method);
                return new RpcException(new Status(StatusCode.Internal, "A request message could not be decoded."));
            case DomainException domain:
                var code = domain.Kind switch
                {
                    DomainErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
                    DomainErrorKind.NotFound => StatusCode.NotFound,
                    DomainErrorKind.LimitExceeded => StatusCode.ResourceExhausted,
                    _ => StatusCode.InvalidArgument,
                };
                return new RpcException(new Status(code, $"{ToSnakeCase(domain.Field)}: {domain.Rule}"));
            case ClientRegistryException registry:
                return new RpcException(new Status(registry.Error switch
                {
                    ClientRegistryError.AlreadyExists => StatusCode.AlreadyExists,
                    ClientRegistryError.NotFound => StatusCode.NotFound,
                    // Concurrent changes to one client: the hub's answer to any lost race, so the admin retries.
                    ClientRegistryError.Conflict => StatusCode.Aborted,
                    _ => StatusCode.InvalidArgument,
                }, registry.Message));
            case DbUpdateConcurrencyException:
                // Optimistic concurrency (two streams resuming one roster session): the other committed first.
                return new RpcException(new Status(StatusCode.Aborted, "A concurrent change to the same record committed first; nothing was changed: read it again and retry."));
            case DbUpdateException update when StorageErrors.IsUniqueViolation(update):
                return new RpcException(new Status(StatusCode.Aborted, "A concurrent change wrote the same record first; nothing was changed: retry to see why."));
            case Exception when StorageErrors.IsPeriodClosed(exception):
                // The call read the month as open and booked into it, and the club closed the month before the booking
                // was written: the database refused it whole. A lost race, not a bug: INTERNAL would tell the client
                // not to retry, and a retry books it in the next open month (PeriodRules.BookingPeriod).
                LogPeriodClosedWhileBooking(logger, context.Method);
                return new RpcException(new Status(StatusCode.Aborted, PeriodClosedWhileBooking));
            case Exception when StorageErrors.IsTransient(exception):
                // The database was busy, locked, unreachable or chose this call as a deadlock victim: nothing wrong in
                // the request or the hub, and a retry may succeed, which clients do on UNAVAILABLE (docs/transport.md),
                // not on INTERNAL. Still a warning with the cause, for the operator watching the database.
                LogDatabaseUnavailable(logger, exception, context.Method);
                return new RpcException(new Status(StatusCode.Unavailable, "The database is busy or unreachable: retry the call later."));
            default:
                LogUnexpected(logger, exception, context.Method);
                return new RpcException(new Status(StatusCode.Internal, "The server failed to process the call; the error was logged."));
        }
    }

    /// <summary>The answer to a booking the database refused because its month was closed meanwhile (docs/reconciliation.md).</summary>
    internal const string PeriodClosedWhileBooking =
        "The month this was booked in was closed while the call was booking it; nothing was recorded: retry the call, and the retry books it in the next open month.";

    /// <summary>
    /// True once Kestrel knows the client reset the stream or dropped the connection. Kestrel fails the pending read with
    /// an IOException and cancels RequestAborted at the same moment; the read may observe its failure first, so the
    /// interceptor waits briefly for the cancellation instead of reporting a server error.
    /// </summary>
    private static bool ClientWentAway(ServerCallContext context)
    {
        var aborted = context.GetHttpContext().RequestAborted;
        return aborted.IsCancellationRequested || aborted.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// True for what grpc-dotnet and Google.Protobuf throw on a request message they cannot decode: broken framing,
    /// a length over the limit read inside a stream, bad protobuf.
    /// </summary>
    private static bool IsRequestReadFailure(Exception exception) => exception switch
    {
        InvalidDataException or Google.Protobuf.InvalidProtocolBufferException => true,
        IOException => exception.TargetSite?.DeclaringType?.Namespace?.StartsWith("Grpc.AspNetCore", StringComparison.Ordinal) == true,
        _ => false,
    };

    /// <summary>The domain names fields in lowerCamel (<c>hostLandlordId</c>); the proto says <c>host_landlord_id</c>.</summary>
    internal static string ToSnakeCase(string field)
    {
        var builder = new StringBuilder(field.Length + 8);
        foreach (var character in field)
        {
            if (char.IsAsciiLetterUpper(character))
            {
                builder.Append('_').Append(char.ToLowerInvariant(character));
            }
            else
            {
                builder.Append(character);
            }
        }

        return builder.ToString();
    }

    [LoggerMessage(EventId = 1011, EventName = "UndecodableRequestMessage", Level = LogLevel.Debug, Message = "{Rpc} received a request message it could not decode; the client got INTERNAL")]
    private static partial void LogUndecodableMessage(ILogger logger, string rpc);

    [LoggerMessage(EventId = 1012, EventName = "ClientWentAway", Level = LogLevel.Debug, Message = "{Rpc}: the client went away while the call read its request stream")]
    private static partial void LogClientWentAway(ILogger logger, string rpc);

    [LoggerMessage(EventId = 1013, EventName = "DatabaseUnavailable", Level = LogLevel.Warning, Message = "{Rpc} failed on a transient database error (busy, locked, timed out, unreachable or a deadlock); the client got UNAVAILABLE")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception, string rpc);

    [LoggerMessage(EventId = 1014, EventName = "PeriodClosedWhileBooking", Level = LogLevel.Information, Message = "{Rpc} booked into a month the club closed meanwhile; nothing was written and the client got ABORTED")]
    private static partial void LogPeriodClosedWhileBooking(ILogger logger, string rpc);

    [LoggerMessage(EventId = 1010, EventName = "UnexpectedRpcError", Level = LogLevel.Error, Message = "{Rpc} failed with an unexpected error; the client got INTERNAL")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string rpc);
}
