using System.Security.Authentication;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Cli.Connection;

/// <summary>
/// One command's connection to the hub: an access token from the token endpoint, then a gRPC channel that sends it
/// on every call. <see cref="CallAsync{T}"/> turns a gRPC status into the exit code and the one line to print.
/// </summary>
internal sealed class HubSession : IDisposable
{
    /// <summary>HTTP/2's HTTP_1_1_REQUIRED error code (RFC 9113, 7): what Kestrel answers h2c on an HTTP/1.1-only endpoint.</summary>
    private const long Http11Required = 0xd;

    private readonly GrpcChannel _channel;
    private readonly HubSettings _settings;

    private HubSession(GrpcChannel channel, CallInvoker invoker, HubSettings settings)
    {
        _channel = channel;
        _settings = settings;
        Admin = new V1.AdminService.AdminServiceClient(invoker);
        Demo = new V1.DemoService.DemoServiceClient(invoker);
    }

    public V1.AdminService.AdminServiceClient Admin { get; }

    public V1.DemoService.DemoServiceClient Demo { get; }

    public HubSettings Settings => _settings;

    public static async Task<HubSession> OpenAsync(HubSettings settings, CancellationToken cancellationToken)
    {
        string token;
        using (var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan })
        {
            token = await new TokenClient(http, settings, TimeProvider.System).GetAccessTokenAsync(TokenClient.AdminScope, cancellationToken);
        }

        var channel = GrpcChannel.ForAddress(settings.HubUrl);
        var invoker = channel.Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return metadata;
        });
        return new HubSession(channel, invoker, settings);
    }

    /// <summary>Call options with the configured deadline.</summary>
    public CallOptions Options(CancellationToken cancellationToken) =>
        new(deadline: TimeProvider.System.GetUtcNow().UtcDateTime + _settings.Timeout, cancellationToken: cancellationToken);

    /// <summary>Call options without a deadline, for a stream that lasts as long as the work it reports on.</summary>
    public static CallOptions StreamOptions(CancellationToken cancellationToken) => new(cancellationToken: cancellationToken);

    /// <summary>Makes a unary call with the configured deadline; a failure becomes a <see cref="CliException"/>.</summary>
    public async Task<T> CallAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            using var pending = call(Options(cancellationToken));
            return await pending.ResponseAsync;
        }
        catch (RpcException exception)
        {
            throw Failure(exception);
        }
    }

    /// <summary>The exit code and the line to print for a failed call.</summary>
    public CliException Failure(RpcException exception)
    {
        var detail = exception.Status.Detail;
        return exception.StatusCode switch
        {
            StatusCode.Unavailable or StatusCode.DeadlineExceeded when IsTransport(exception) => new CliException(ExitCodes.HubUnreachable,
                $"cannot reach the hub at {_settings.HubUrl.GetLeftPart(UriPartial.Authority)} ({Short(exception)}): is it running? Check {HubSettings.UrlVariable}"),
            StatusCode.DeadlineExceeded => new CliException(ExitCodes.HubUnreachable,
                $"the hub did not answer within {_settings.Timeout.TotalSeconds:0} s: retry, or raise --timeout"),
            StatusCode.Unauthenticated => new CliException(ExitCodes.AuthenticationOrPermission,
                $"the hub did not accept the token of client '{_settings.ClientId}': {detail}"),
            StatusCode.PermissionDenied => new CliException(ExitCodes.AuthenticationOrPermission,
                $"client '{_settings.ClientId}' may not do this: {detail}"),
            StatusCode.InvalidArgument or StatusCode.OutOfRange => new CliException(ExitCodes.Usage, $"the hub refused the request: {detail}"),
            StatusCode.Unavailable => new CliException(ExitCodes.HubUnreachable, $"the hub is unavailable: {detail}"),
            StatusCode.Internal when IsWrongProtocol(exception) => new CliException(ExitCodes.HubUnreachable,
                $"could not talk gRPC to {_settings.HubUrl.GetLeftPart(UriPartial.Authority)} ({WrongProtocol(exception)}): is --url the hub's gRPC endpoint (h2c or https)? Check {HubSettings.UrlVariable}"),
            _ => new CliException(ExitCodes.Refused, $"{Describe(exception.StatusCode)}: {detail}"),
        };
    }

    public void Dispose() => _channel.Dispose();

    // A status the client made up because no HTTP/2 exchange happened (refused connection, unknown host).
    private static bool IsTransport(RpcException exception) =>
        exception.StatusCode == StatusCode.Unavailable && exception.Status.DebugException is HttpRequestException or System.Net.Sockets.SocketException;

    // INTERNAL made up by the client when the request got no HTTP/2 answer at all: TLS to a cleartext port, h2c to the
    // HTTP/1.1-only Http endpoint. A transport problem of --url, not a failure of the hub: the server's own INTERNAL
    // comes in its trailers, with no client-side exception.
    private static bool IsWrongProtocol(RpcException exception) =>
        exception.Status.DebugException is HttpRequestException or AuthenticationException;

    private static string WrongProtocol(RpcException exception) => exception.Status.DebugException switch
    {
        AuthenticationException or { InnerException: AuthenticationException } => "the TLS handshake failed",
        { InnerException: HttpProtocolException { ErrorCode: Http11Required } } => "it speaks HTTP/1.1 only",
        var other => other!.Message,
    };

    private static string Short(RpcException exception) =>
        exception.Status.DebugException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } ? "connection refused"
        : exception.Status.DebugException?.Message ?? exception.Status.Detail;

    private static string Describe(StatusCode code) => code switch
    {
        StatusCode.NotFound => "not found",
        StatusCode.AlreadyExists => "already exists",
        StatusCode.FailedPrecondition => "refused",
        StatusCode.Aborted => "a concurrent change won: retry",
        StatusCode.ResourceExhausted => "over a limit",
        StatusCode.Unimplemented => "the hub does not know this call (is it older than this CLI?)",
        _ => $"the hub failed ({code})",
    };
}
