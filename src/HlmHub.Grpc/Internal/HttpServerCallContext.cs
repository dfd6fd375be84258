using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace HlmHub.Grpc.Internal;

/// <summary>
/// One server call on one HTTP/2 stream: parses the request headers, reads and writes
/// length-prefixed messages, and ends the call with a status in trailers (or Trailers-Only).
/// </summary>
internal sealed class HttpServerCallContext : ServerCallContext, IDisposable
{
    private readonly HttpContext _httpContext;
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource? _deadlineSource;
    private readonly DateTime _deadline;
    private readonly string? _requestEncoding;
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;
    private Dictionary<object, object?>? _userState;
    private string? _responseEncoding;
    private bool _responseEncodingDecided;
    private bool _deadlineExceeded;
    private bool _messageWritten;
    private readonly ITimer? _deadlineTimer;

    /// <summary>Longest deadline enforced with a timer; longer ones (up to 99,999,999 hours on the wire) mean "none".</summary>
    internal static readonly TimeSpan MaxEnforceableTimeout = TimeSpan.FromDays(49);

    private HttpServerCallContext(
        HttpContext httpContext,
        GrpcMethodDefinition method,
        GrpcServerOptions options,
        ILogger logger,
        TimeProvider timeProvider,
        TimeSpan? timeout,
        string? requestEncoding)
    {
        _httpContext = httpContext;
        MethodDefinition = method;
        _options = options;
        _logger = logger;
        _requestEncoding = requestEncoding;
        _responseEncoding = options.ResponseCompressionAlgorithm;
        if (timeout is { } value)
        {
            _deadline = timeProvider.GetUtcNow().UtcDateTime + value;
            _deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted);
            // The timer runs on the injected clock so tests can drive deadlines. It records that the
            // deadline (not the client) ended the call before cancelling the handler's token.
            _deadlineTimer = timeProvider.CreateTimer(static state => ((HttpServerCallContext)state!).OnDeadline(), this, value, Timeout.InfiniteTimeSpan);
            CancellationToken = _deadlineSource.Token;
        }
        else
        {
            _deadline = DateTime.MaxValue;
            CancellationToken = httpContext.RequestAborted;
        }
    }

    public override GrpcMethodDefinition MethodDefinition { get; }
    public override string Host => _httpContext.Request.Host.Value ?? string.Empty;
    public override string Peer => FormatPeer(_httpContext.Connection.RemoteIpAddress, _httpContext.Connection.RemotePort);
    public override DateTime Deadline => _deadline;
    public override Metadata RequestHeaders => _requestHeaders ??= ParseRequestMetadata(_httpContext.Request.Headers);
    public override CancellationToken CancellationToken { get; }
    public override Metadata ResponseTrailers => _responseTrailers ??= new Metadata();
    public override Status Status { get; set; } = Status.DefaultSuccess;
    public override WriteOptions? WriteOptions { get; set; }
    public override bool LastRequestMessageWasCompressed => LastMessageCompressed;
    public override HttpContext HttpContext => _httpContext;
    public override IDictionary<object, object?> UserState => _userState ??= [];

    public override string? ResponseCompressionAlgorithm
    {
        get => _responseEncoding;
        set
        {
            if (_responseEncodingDecided)
            {
                throw new InvalidOperationException("The response encoding cannot change after the response headers were sent.");
            }
            if (value is not null && !MessageCompression.IsSupported(value))
            {
                throw new ArgumentException($"Encoding '{value}' is not supported (supported: {MessageCompression.AcceptEncodingValue}).", nameof(value));
            }
            _responseEncoding = value;
        }
    }

    internal bool LastMessageCompressed { get; private set; }

    internal bool DeadlineExceeded => _deadlineExceeded;

    /// <summary>
    /// Validates the protocol-level request headers and creates the context. Returns null after
    /// writing an error response when the request cannot be a valid call.
    /// </summary>
    public static HttpServerCallContext? TryCreate(
        HttpContext httpContext,
        GrpcMethodDefinition method,
        GrpcServerOptions options,
        ILogger logger,
        TimeProvider timeProvider)
    {
        var headers = httpContext.Request.Headers;
        TimeSpan? timeout = null;
        var timeoutHeader = headers[GrpcProtocol.TimeoutHeader];
        if (!StringValues.IsNullOrEmpty(timeoutHeader))
        {
            if (!GrpcTimeout.TryParse(timeoutHeader.ToString(), out var parsed))
            {
                WriteTrailersOnly(httpContext, new Status(StatusCode.InvalidArgument,
                    $"Malformed grpc-timeout header '{Truncate(timeoutHeader.ToString())}': expected 1-8 digits and a unit (H, M, S, m, u, n)."));
                return null;
            }
            // Timers cannot wait longer than ~49.7 days, and a deadline that far away is no deadline.
            timeout = parsed <= MaxEnforceableTimeout ? parsed : null;
        }

        string? requestEncoding = null;
        var encodingHeader = headers[GrpcProtocol.EncodingHeader];
        if (!StringValues.IsNullOrEmpty(encodingHeader))
        {
            var value = encodingHeader.ToString();
            if (!MessageCompression.IsSupported(value))
            {
                WriteTrailersOnly(httpContext, new Status(StatusCode.Unimplemented,
                    $"Unsupported grpc-encoding '{Truncate(value)}'. Supported encodings: {MessageCompression.AcceptEncodingValue}."));
                return null;
            }
            requestEncoding = value == GrpcProtocol.IdentityEncoding ? null : value;
        }

        // Binary metadata is checked now so a malformed header is refused before any handler runs;
        // the rest of the metadata is only parsed if someone reads it (most calls never do).
        foreach (var header in headers)
        {
            if (Metadata.Entry.IsBinaryKey(header.Key) && !IsReservedHeader(header.Key))
            {
                foreach (var value in header.Value)
                {
                    foreach (var part in (value ?? string.Empty).Split(','))
                    {
                        if (!BinaryHeader.TryDecode(part, out _))
                        {
                            WriteTrailersOnly(httpContext, new Status(StatusCode.InvalidArgument,
                                $"Binary metadata '{Truncate(header.Key)}' is not valid base64."));
                            return null;
                        }
                    }
                }
            }
        }
        return new HttpServerCallContext(httpContext, method, options, logger, timeProvider, timeout, requestEncoding);
    }

    public override Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        var response = _httpContext.Response;
        if (response.HasStarted)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call.");
        }
        foreach (var entry in responseHeaders)
        {
            response.Headers.Append(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
        }
        EnsureResponseHeaders();
        return response.BodyWriter.FlushAsync(CancellationToken).AsTask();
    }

    /// <summary>Reads the next request message; null at the end of the request stream.</summary>
    internal async ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        try
        {
            return await ReadMessageCoreAsync(parser, cancellationToken);
        }
        catch (IOException)
        {
            // Kestrel reports a stream reset by the client as an IOException from ReadAsync or AdvanceTo,
            // sometimes before RequestAborted fires: it is a cancellation, not a server error.
            throw new RpcException(StatusCode.Cancelled, "The client reset the request stream.");
        }
    }

    private async ValueTask<T?> ReadMessageCoreAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var reader = _httpContext.Request.BodyReader;
        // The first attempt takes what is already buffered without an async read: in a busy stream the
        // next message is usually there. Later attempts must wait, since everything buffered was examined.
        var firstAttempt = true;
        while (true)
        {
            ReadResult result;
            if (!firstAttempt || !reader.TryRead(out result))
            {
                result = await reader.ReadAsync(cancellationToken);
            }
            firstAttempt = false;
            var buffer = result.Buffer;
            bool found;
            bool compressed;
            ReadOnlySequence<byte> payload;
            try
            {
                found = MessageFraming.TryReadMessage(ref buffer, _options.MaxReceiveMessageSizeBytes, out compressed, out payload);
            }
            catch
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw;
            }
            if (found)
            {
                T message;
                try
                {
                    message = ParseMessage(parser, compressed, payload);
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start);
                }
                return message;
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                if (!buffer.IsEmpty)
                {
                    throw new RpcException(StatusCode.Internal,
                        $"Request stream ended inside a message ({buffer.Length} bytes of an incomplete message).");
                }
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads the single request message of a unary or server-streaming call.</summary>
    internal async ValueTask<T> ReadSingleMessageAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var message = await ReadMessageAsync(parser, cancellationToken)
            ?? throw new RpcException(StatusCode.Internal, "Request stream ended without the request message.");
        if (await ReadMessageAsync(parser, cancellationToken) is not null)
        {
            throw new RpcException(StatusCode.Internal, "More than one request message sent to a method that takes one.");
        }
        return message;
    }

    private T ParseMessage<T>(MessageParser<T> parser, bool compressed, in ReadOnlySequence<byte> payload)
        where T : class, IMessage<T>
    {
        LastMessageCompressed = compressed;
        if (compressed)
        {
            if (_requestEncoding is null)
            {
                throw new RpcException(StatusCode.Internal, "Message has the compressed flag set but the request has no grpc-encoding.");
            }
            byte[]? inflated;
            try
            {
                inflated = MessageCompression.Decompress(_requestEncoding, payload, _options.MaxReceiveMessageSizeBytes);
            }
            catch (InvalidDataException)
            {
                throw new RpcException(StatusCode.Internal, $"Message is not valid {_requestEncoding} data.");
            }
            if (inflated is null)
            {
                throw new RpcException(StatusCode.ResourceExhausted,
                    $"Decompressed message exceeds the limit of {_options.MaxReceiveMessageSizeBytes} bytes.");
            }
            return ParseOrThrow(parser, new ReadOnlySequence<byte>(inflated));
        }
        return ParseOrThrow(parser, payload);
    }

    private static T ParseOrThrow<T>(MessageParser<T> parser, in ReadOnlySequence<byte> payload)
        where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(StatusCode.Internal, $"Failed to parse the request as {typeof(T).Name}: invalid protobuf data.");
        }
    }

    /// <summary>Writes one response message. The flush is where HTTP/2 flow control makes a writer wait for a slow reader.</summary>
    internal Task WriteMessageAsync(IMessage message, bool flush, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var size = message.CalculateSize();
        if (size > _options.MaxSendMessageSizeBytes)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Response message of {size} bytes exceeds the send limit of {_options.MaxSendMessageSizeBytes} bytes.");
        }
        EnsureResponseHeaders();
        _messageWritten = true;
        var writer = _httpContext.Response.BodyWriter;
        if (_responseEncoding is not null && WriteOptions?.NoCompress != true)
        {
            var compressed = MessageCompression.Compress(_responseEncoding, message.ToByteArray());
            MessageFraming.WriteCompressed(writer, compressed);
        }
        else
        {
            MessageFraming.WriteMessage(writer, message, size);
        }
        if (!flush)
        {
            return Task.CompletedTask;
        }
        ValueTask<FlushResult> flushing;
        try
        {
            flushing = writer.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            throw new RpcException(StatusCode.Cancelled, "The client reset the response stream.");
        }
        // Most flushes complete at once (the data fits the flow-control window): no state machine then.
        if (flushing.IsCompletedSuccessfully)
        {
            CheckFlushResult(flushing.Result, cancellationToken);
            return Task.CompletedTask;
        }
        return AwaitFlushAsync(flushing, cancellationToken);
    }

    private static async Task AwaitFlushAsync(ValueTask<FlushResult> flushing, CancellationToken cancellationToken)
    {
        FlushResult result;
        try
        {
            result = await flushing;
        }
        catch (IOException)
        {
            throw new RpcException(StatusCode.Cancelled, "The client reset the response stream.");
        }
        CheckFlushResult(result, cancellationToken);
    }

    private static void CheckFlushResult(FlushResult result, CancellationToken cancellationToken)
    {
        if (result.IsCanceled || result.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new RpcException(StatusCode.Cancelled, "The client closed the response stream.");
        }
    }

    /// <summary>Sets the response headers on first use; decides the response encoding once.</summary>
    private void EnsureResponseHeaders()
    {
        var response = _httpContext.Response;
        if (response.HasStarted || _responseEncodingDecided)
        {
            return;
        }
        _responseEncodingDecided = true;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = MessageCompression.AcceptEncodingValue;
        if (_responseEncoding is not null)
        {
            // Never compress with an algorithm the client did not advertise.
            if (MessageCompression.PeerAccepts(_httpContext.Request.Headers[GrpcProtocol.AcceptEncodingHeader].ToString(), _responseEncoding))
            {
                response.Headers[GrpcProtocol.EncodingHeader] = _responseEncoding;
            }
            else
            {
                _responseEncoding = null;
            }
        }
    }

    /// <summary>Ends the call: status and trailers, or Trailers-Only when nothing was sent yet.</summary>
    internal void Complete(Status status)
    {
        if (_httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client reset the stream: there is nobody to send a status to.
            return;
        }
        if (!_httpContext.Response.HasStarted && !_messageWritten)
        {
            // Nothing was sent yet: Trailers-Only, the status travels in the one HEADERS frame.
            WriteTrailersOnly(_httpContext, status);
            AppendMetadata(_httpContext.Response.Headers, _responseTrailers);
            return;
        }
        var trailers = _httpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers
            ?? throw new InvalidOperationException("The HTTP/2 response does not support trailers.");
        SetStatusHeaders(trailers, status);
        AppendMetadata(trailers, _responseTrailers);
    }

    /// <summary>Answers a request that never became a call (bad headers) with a Trailers-Only status.</summary>
    internal static void WriteTrailersOnly(HttpContext httpContext, Status status)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = MessageCompression.AcceptEncodingValue;
        SetStatusHeaders(response.Headers, status);
    }

    private static void SetStatusHeaders(IHeaderDictionary headers, Status status)
    {
        headers[GrpcProtocol.StatusTrailer] = StatusCodeStrings.Get(status.StatusCode);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            headers[GrpcProtocol.MessageTrailer] = PercentEncoding.Encode(status.Detail);
        }
    }

    private static void AppendMetadata(IHeaderDictionary headers, Metadata? metadata)
    {
        if (metadata is null)
        {
            return;
        }
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.IsBinary ? BinaryHeader.Encode(entry.ValueBytes) : entry.Value);
        }
    }

    private void OnDeadline()
    {
        var source = _deadlineSource;
        if (source is null || _disposed)
        {
            return;
        }
        _deadlineExceeded = true;
        GrpcServerLog.DeadlineExceeded(_logger, MethodDefinition.Path);
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended while the timer fired: nothing left to cancel.
        }
    }

    private static Metadata ParseRequestMetadata(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers)
        {
            var key = header.Key;
            if (IsReservedHeader(key))
            {
                continue;
            }
            var lowerKey = key.ToLowerInvariant();
            foreach (var value in header.Value)
            {
                if (value is null)
                {
                    continue;
                }
                if (Metadata.Entry.IsBinaryKey(lowerKey))
                {
                    // Several binary values may be folded into one header, separated by commas.
                    foreach (var part in value.Split(','))
                    {
                        if (!BinaryHeader.TryDecode(part, out var bytes))
                        {
                            throw new RpcException(StatusCode.InvalidArgument, $"Binary metadata '{Truncate(lowerKey)}' is not valid base64.");
                        }
                        metadata.Add(new Metadata.Entry(lowerKey, bytes));
                    }
                }
                else
                {
                    try
                    {
                        metadata.Add(new Metadata.Entry(lowerKey, value));
                    }
                    catch (ArgumentException)
                    {
                        // Valid HTTP but outside gRPC's ASCII-Value (e.g. a tab): PROTOCOL-HTTP2.md asks
                        // implementations not to fail the call, so the entry is dropped.
                    }
                }
            }
        }
        return metadata;
    }

    private static bool IsReservedHeader(string key) =>
        key.StartsWith(':')
        || key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "content-type", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "te", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "host", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "content-length", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "connection", StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, "accept-encoding", StringComparison.OrdinalIgnoreCase);

    private static string FormatPeer(IPAddress? address, int port) => address switch
    {
        null => "unknown",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } => $"ipv6:[{address}]:{port}",
        _ => $"ipv4:{address}:{port}",
    };

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";

    private volatile bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _deadlineTimer?.Dispose();
        _deadlineSource?.Dispose();
    }
}

/// <summary>Cached decimal strings of the status codes, so ending a call does not format an int.</summary>
internal static class StatusCodeStrings
{
    private static readonly string[] Values = Enumerable.Range(0, 17).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string Get(StatusCode code) => (uint)code < (uint)Values.Length
        ? Values[(int)code]
        : ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
