using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc.Internal;

/// <summary>Every log message of the server transport, with fixed event ids (1xx).</summary>
internal static partial class GrpcServerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "Error when executing {Method}: the call ends with status {StatusCode}.")]
    public static partial void HandlerFailed(ILogger logger, string method, StatusCode statusCode, Exception exception);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Call {Method} ended with status {StatusCode}: {Detail}")]
    public static partial void CallEndedWithStatus(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Call {Method} cancelled by the client.")]
    public static partial void CallCancelledByClient(ILogger logger, string method);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Call {Method} exceeded its deadline.")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Request with content type '{ContentType}' refused: gRPC needs application/grpc.")]
    public static partial void UnsupportedContentType(ILogger logger, string? contentType);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Unimplemented {Kind} called: {Path}")]
    public static partial void Unimplemented(ILogger logger, string kind, string path);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Mapped gRPC method {Path} ({MethodType}) to {ServiceType}.{Implementation}.")]
    public static partial void MethodMapped(ILogger logger, string path, MethodType methodType, string serviceType, string implementation);
}
