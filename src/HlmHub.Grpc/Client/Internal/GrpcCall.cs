using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using HlmHub.Grpc.Internal;

namespace HlmHub.Grpc.Client.Internal;

/// <summary>
/// One client call over one HTTP/2 stream: sends the request headers and body, validates the response
/// headers, reads messages and trailers, and settles the final status exactly once, whichever comes
/// first of the server's trailers, a local error, the deadline or a cancellation.
/// </summary>
internal sealed class GrpcCall<TRequest, TResponse> : IClientCall
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private const string UserAgent = "grpc-dotnet-hlmhub/1.0";

    private static readonly Metadata EmptyMetadata = new();

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CancellationTokenSource _callCts = new();
    // Completed with the raw headers (null: none, e.g. Trailers-Only); turned into Metadata only if someone asks.
    private readonly TaskCompletionSource<HttpResponseHeaders?> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<Metadata>? _responseHeadersMetadata;
    private readonly Lock _lock = new();
    private CancellationTokenRegistration _userCancellation;
    private ITimer? _deadlineTimer;
    private DateTime _deadlineUtc = DateTime.MaxValue;
    private StreamingRequestContent? _streamingContent;
    private HttpRequestMessage? _request;
    private HttpResponseMessage? _response;
    private ResponseMessageReader? _reader;
    private string? _responseEncoding;
    private Task _sendTask = Task.CompletedTask;
    // Written once under _lock; a reference so that lock-free readers never see a torn status.
    private volatile Outcome? _outcome;

    public GrpcCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        Options = options;
        RequestEncoding = channel.SelectRequestEncoding();
    }

    public CallOptions Options { get; }

    /// <summary>The encoding of request messages (null: none), fixed for the call by its headers.</summary>
    public string? RequestEncoding { get; }

    public int MaxSendMessageSizeBytes => _channel.Options.MaxSendMessageSizeBytes;

    /// <summary>Cancelled when the call ends abnormally: aborts every pending send, write and read.</summary>
    public CancellationToken CallToken => _callCts.Token;

    public Task<Metadata> ResponseHeadersAsync => LazyInitializer.EnsureInitialized(ref _responseHeadersMetadata, MaterializeResponseHeadersAsync);

    public void StartWithSingleRequest(TRequest request)
    {
        byte[] frame;
        try
        {
            frame = MessageFrame.CreateExact(request, Options.WriteOptions?.NoCompress == true ? null : RequestEncoding, MaxSendMessageSizeBytes);
        }
        catch (RpcException ex)
        {
            Finish(ex.Status, EmptyMetadata, abort: true);
            return;
        }
        var content = new ByteArrayContent(frame);
        content.Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
        Start(content);
    }

    public IClientStreamWriter<TRequest> StartWithRequestStream()
    {
        _streamingContent = new StreamingRequestContent();
        var writer = new ClientStreamWriter<TRequest, TResponse>(this, _streamingContent);
        Start(_streamingContent);
        return writer;
    }

    /// <summary>Reads the one response of a unary or client-streaming call, then the trailers.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        await _sendTask.ConfigureAwait(false);
        if (_reader is null)
        {
            throw EndedException(null);
        }
        var response = await ReadNextAsync().ConfigureAwait(false);
        if (response is null)
        {
            CompleteAtEndOfBody(expectedMessageMissing: true);
            throw EndedException(null);
        }
        if (await ReadNextAsync().ConfigureAwait(false) is not null)
        {
            Finish(new Status(StatusCode.Internal, "The server sent more than one response message for a single-response call."), EmptyMetadata, abort: true);
            throw EndedException(null);
        }
        var status = CompleteAtEndOfBody(expectedMessageMissing: false);
        return status.StatusCode == StatusCode.OK ? response : throw EndedException(null);
    }

    /// <summary>The next message of a response stream; null when it ended with OK.</summary>
    public async Task<TResponse?> ReadNextOrEndAsync()
    {
        await _sendTask.ConfigureAwait(false);
        if (_reader is null || _outcome is not null)
        {
            return _outcome?.Status.StatusCode == StatusCode.OK ? null : throw EndedException(null);
        }
        var message = await ReadNextAsync().ConfigureAwait(false);
        if (message is not null)
        {
            return message;
        }
        var status = CompleteAtEndOfBody(expectedMessageMissing: false);
        return status.StatusCode == StatusCode.OK ? null : throw EndedException(null);
    }

    public Status GetStatus() =>
        _outcome?.Status ?? throw new InvalidOperationException("The call has not completed: read its response to the end first.");

    public Metadata GetTrailers() =>
        _outcome?.Trailers ?? throw new InvalidOperationException("The call has not completed: read its response to the end first.");

    public void Dispose()
    {
        if (_outcome is null)
        {
            Finish(new Status(StatusCode.Cancelled, "The call was disposed before it completed."), EmptyMetadata, abort: true);
        }
    }

    public void CancelByClient() =>
        Finish(new Status(StatusCode.Cancelled, "The call was cancelled by the client."), EmptyMetadata, abort: true);

    /// <summary>Ends the call abnormally with <paramref name="status"/> unless it already ended.</summary>
    public void Fail(Status status) => Finish(status, EmptyMetadata, abort: true);

    public void ThrowIfCallEnded()
    {
        if (_outcome is not null)
        {
            throw EndedException(null);
        }
    }

    /// <summary>What an operation on an ended call throws: the final status, or misuse once it ended with OK.</summary>
    public Exception EndedException(RpcException? original)
    {
        if (_outcome is not { } outcome)
        {
            return original is not null ? original : new InvalidOperationException("The call has not ended.");
        }
        if (outcome.Status.StatusCode == StatusCode.OK)
        {
            return new InvalidOperationException("The call has already completed successfully.");
        }
        return new RpcException(outcome.Status, outcome.Trailers);
    }

    /// <summary>Maps a transport failure to a status (PROTOCOL-HTTP2.md, "Errors"); a local cancellation wins.</summary>
    public Status StatusFromException(Exception exception)
    {
        if (_outcome is { } outcome)
        {
            return outcome.Status;
        }
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocol)
            {
                return protocol.ErrorCode switch
                {
                    0x7 => new Status(StatusCode.Unavailable, "The server refused the stream (REFUSED_STREAM)."),
                    0x8 => new Status(StatusCode.Cancelled, "The server cancelled the stream (RST_STREAM CANCEL)."),
                    0xb => new Status(StatusCode.ResourceExhausted, "The server asked to slow down (ENHANCE_YOUR_CALM): bandwidth exhausted."),
                    0xc => new Status(StatusCode.PermissionDenied, "The connection is not secure enough for the call (INADEQUATE_SECURITY)."),
                    _ => new Status(StatusCode.Internal, $"HTTP/2 error {protocol.ErrorCode} on the stream."),
                };
            }
        }
        return exception switch
        {
            OperationCanceledException => new Status(StatusCode.Cancelled, "The call was cancelled."),
            HttpRequestException or IOException => new Status(StatusCode.Unavailable, $"Error talking to the server: {exception.Message}"),
            _ => new Status(StatusCode.Internal, $"Unexpected client error: {exception.GetType().Name}."),
        };
    }

    private void Start(HttpContent content)
    {
        var clock = _channel.Options.TimeProvider;
        string? timeout = null;
        if (Options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            _deadlineUtc = deadline.Kind == DateTimeKind.Local ? deadline.ToUniversalTime() : deadline;
            var remaining = _deadlineUtc - clock.GetUtcNow().UtcDateTime;
            if (remaining <= TimeSpan.Zero)
            {
                content.Dispose();
                Finish(DeadlineExceeded, EmptyMetadata, abort: true);
                return;
            }
            timeout = GrpcTimeout.Format(remaining);
            _deadlineTimer = clock.CreateTimer(
                static state => ((GrpcCall<TRequest, TResponse>)state!).Finish(DeadlineExceeded, EmptyMetadata, abort: true),
                this, remaining, Timeout.InfiniteTimeSpan);
        }
        if (Options.CancellationToken.CanBeCanceled)
        {
            _userCancellation = Options.CancellationToken.UnsafeRegister(
                static state => ((GrpcCall<TRequest, TResponse>)state!).CancelByClient(), this);
        }
        if (_outcome is not null)
        {
            content.Dispose();
            return;
        }
        _sendTask = SendAsync(content, timeout);
    }

    private static Status DeadlineExceeded => new(StatusCode.DeadlineExceeded, "Deadline Exceeded");

    private async Task SendAsync(HttpContent content, string? timeout)
    {
        HttpResponseMessage response;
        try
        {
            var headers = _channel.Options.Interceptors.Count == 0
                ? Options.Headers
                : await RunInterceptorsAsync().ConfigureAwait(false);
            var request = CreateRequest(content, headers, timeout);
            lock (_lock)
            {
                if (_outcome is not null)
                {
                    request.Dispose();
                    return;
                }
                _request = request;
            }
            response = await _channel.Invoker.SendAsync(request, _callCts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            content.Dispose();
            Finish(ex is RpcException rpc ? rpc.Status : StatusFromException(ex), EmptyMetadata, abort: true);
            return;
        }
        lock (_lock)
        {
            if (_outcome is not null)
            {
                response.Dispose();
                return;
            }
            _response = response;
        }
        try
        {
            await ReadResponseHeadersAsync(response).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Finish(StatusFromException(ex), EmptyMetadata, abort: true);
        }
    }

    private async Task<Metadata> RunInterceptorsAsync()
    {
        var headers = new Metadata();
        if (Options.Headers is { } callHeaders)
        {
            foreach (var entry in callHeaders)
            {
                headers.Add(entry);
            }
        }
        var context = new ClientCallContext(_channel.Address, _method.FullName, _method.ServiceName, _method.Name, _method.Type, Options.Deadline, headers);
        foreach (var interceptor in _channel.Options.Interceptors)
        {
            try
            {
                await interceptor(context, _callCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
            {
                throw new RpcException(StatusCode.Unavailable, $"A call interceptor failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
        return headers;
    }

    private HttpRequestMessage CreateRequest(HttpContent content, Metadata? metadata, string? timeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _channel.GetMethodUri(_method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = request.Headers;
        // Timeout first after the pseudo-headers, then the call definition, then custom metadata (PROTOCOL-HTTP2.md).
        if (timeout is not null)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, timeout);
        }
        headers.TryAddWithoutValidation("te", "trailers");
        if (RequestEncoding is not null)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.EncodingHeader, RequestEncoding);
        }
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, _channel.AcceptEncodingHeader);
        headers.TryAddWithoutValidation("user-agent", UserAgent);
        if (metadata is not null)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
            }
        }
        return request;
    }

    private async Task ReadResponseHeadersAsync(HttpResponseMessage response)
    {
        var headers = response.Headers;
        if (_channel.CompressesRequests
            && (TryGetHeader(headers, GrpcProtocol.AcceptEncodingHeader, out var acceptEncoding) || response.StatusCode == HttpStatusCode.OK))
        {
            _channel.ObserveServerAcceptEncoding(acceptEncoding);
        }
        if (TryGetHeader(headers, GrpcProtocol.StatusTrailer, out _))
        {
            // Trailers-Only: the status came in the headers. It must be used whatever the HTTP status (http-grpc-status-mapping.md).
            var trailers = ToMetadata(headers);
            var status = ReadStatus(headers);
            if (status.StatusCode == StatusCode.OK && _method.Type is MethodType.Unary or MethodType.ClientStreaming)
            {
                status = NoResponseMessage;
            }
            _responseHeaders.TrySetResult(null);
            Finish(status, trailers, abort: false);
            return;
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var code = (int)response.StatusCode;
            Finish(new Status(MapHttpStatus(code), $"Bad gRPC response. HTTP status code: {code}."), EmptyMetadata, abort: true);
            return;
        }
        TryGetHeader(response.Content.Headers, "content-type", out var contentType);
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            Finish(new Status(StatusCode.Unknown, $"Bad gRPC response. Invalid content-type: '{contentType}'."), EmptyMetadata, abort: true);
            return;
        }
        TryGetHeader(headers, GrpcProtocol.EncodingHeader, out _responseEncoding);
        var body = await response.Content.ReadAsStreamAsync(_callCts.Token).ConfigureAwait(false);
        _reader = new ResponseMessageReader(body, _channel.Options.MaxReceiveMessageSizeBytes);
        _responseHeaders.TrySetResult(headers);
    }

    private async Task<Metadata> MaterializeResponseHeadersAsync()
    {
        var headers = await _responseHeaders.Task.ConfigureAwait(false);
        return headers is null ? new Metadata() : ToMetadata(headers);
    }

    private static Status NoResponseMessage => new(StatusCode.Internal, "The server ended a single-response call with OK but no response message.");

    private async ValueTask<TResponse?> ReadNextAsync()
    {
        try
        {
            return await _reader!.ReadAsync(_method.ResponseParser, _responseEncoding, _callCts.Token).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            Finish(ex.Status, EmptyMetadata, abort: true);
            throw EndedException(ex);
        }
        catch (Exception ex)
        {
            Finish(StatusFromException(ex), EmptyMetadata, abort: true);
            throw EndedException(null);
        }
    }

    /// <summary>Settles the status from the trailers once the body has ended.</summary>
    private Status CompleteAtEndOfBody(bool expectedMessageMissing)
    {
        var response = _response!;
        Status status;
        Metadata trailers;
        try
        {
            var trailingHeaders = response.TrailingHeaders;
            trailers = ToMetadata(trailingHeaders);
            status = TryGetHeader(trailingHeaders, GrpcProtocol.StatusTrailer, out _)
                ? ReadStatus(trailingHeaders)
                : new Status(StatusCode.Unknown, "The response ended without a grpc-status trailer.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // The response was disposed by a concurrent cancellation: that status wins.
            trailers = EmptyMetadata;
            status = StatusFromException(ex);
        }
        if (expectedMessageMissing && status.StatusCode == StatusCode.OK)
        {
            status = NoResponseMessage;
        }
        Finish(status, trailers, abort: false);
        return _outcome!.Status;
    }

    /// <summary>Records the final status once; later outcomes are ignored. Releases the call's resources.</summary>
    private void Finish(Status status, Metadata trailers, bool abort)
    {
        HttpResponseMessage? response;
        HttpRequestMessage? request;
        lock (_lock)
        {
            if (_outcome is not null)
            {
                return;
            }
            // A failure after the deadline is reported as DEADLINE_EXCEEDED (PROTOCOL-HTTP2.md, "Client Cancellation").
            if (status.StatusCode == StatusCode.Cancelled && _deadlineUtc != DateTime.MaxValue
                && _channel.Options.TimeProvider.GetUtcNow().UtcDateTime >= _deadlineUtc)
            {
                status = DeadlineExceeded;
                trailers = EmptyMetadata;
            }
            _outcome = new Outcome(status, trailers);
            response = _response;
            request = _request;
        }
        if (status.StatusCode == StatusCode.OK)
        {
            _responseHeaders.TrySetResult(null);
        }
        else
        {
            _responseHeaders.TrySetException(new RpcException(status, trailers));
            // Nobody may await the headers: observe the exception so it is not reported as unobserved.
            _ = _responseHeaders.Task.Exception;
        }
        _deadlineTimer?.Dispose();
        _userCancellation.Dispose();
        if (abort)
        {
            // Aborts the pending send, reads and writes; disposing the unfinished response resets the stream (RST_STREAM CANCEL).
            _callCts.Cancel();
            _streamingContent?.Abort();
        }
        else
        {
            _streamingContent?.Complete();
        }
        response?.Dispose();
        if (abort || response is not null)
        {
            request?.Dispose();
        }
        if (!abort)
        {
            _reader?.Dispose();
        }
    }

    public bool HasEnded => _outcome is not null;

    private sealed record Outcome(Status Status, Metadata Trailers);

    private static Status ReadStatus(HttpHeaders headers)
    {
        TryGetHeader(headers, GrpcProtocol.StatusTrailer, out var statusValue);
        TryGetHeader(headers, GrpcProtocol.MessageTrailer, out var message);
        var detail = message is null ? string.Empty : PercentEncoding.Decode(message);
        if (!int.TryParse(statusValue, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return new Status(StatusCode.Unknown, $"Invalid grpc-status '{statusValue}'. {detail}".TrimEnd());
        }
        // A code this client does not know is UNKNOWN (grpc's statuscodes.md).
        return Enum.IsDefined((StatusCode)code) ? new Status((StatusCode)code, detail) : new Status(StatusCode.Unknown, detail);
    }

    /// <summary>For responses without grpc-status only (doc/http-grpc-status-mapping.md).</summary>
    internal static StatusCode MapHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        431 => StatusCode.Internal,
        _ => StatusCode.Unknown,
    };

    private static bool TryGetHeader(HttpHeaders headers, string name, out string? value)
    {
        if (headers.NonValidated.TryGetValues(name, out var values))
        {
            value = values.ToString();
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>
    /// Custom metadata of response headers or trailers: reserved (grpc-*, content-type) headers left out;
    /// -bin values split on ',' and base64-decoded; values that are not valid metadata are dropped rather
    /// than failing the call (PROTOCOL-HTTP2.md).
    /// </summary>
    internal static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers.NonValidated)
        {
            var key = header.Key;
            if (key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
                || string.Equals(key, "content-type", StringComparison.OrdinalIgnoreCase)
                || string.Equals(key, "content-length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var binary = Metadata.Entry.IsBinaryKey(key);
            foreach (var value in header.Value)
            {
                try
                {
                    if (!binary)
                    {
                        metadata.Add(key, value);
                        continue;
                    }
                    foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
                    {
                        if (BinaryHeader.TryDecode(part, out var bytes))
                        {
                            metadata.Add(key, bytes);
                        }
                    }
                }
                catch (ArgumentException)
                {
                    // Not a valid metadata key or value: dropped.
                }
            }
        }
        return metadata;
    }
}
