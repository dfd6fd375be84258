using System.Collections.Concurrent;
using Google.Protobuf;
using HlmHub.Grpc.Client.Internal;
using HlmHub.Grpc.Internal;

namespace HlmHub.Grpc.Client;

/// <summary>
/// A connection pool to one gRPC server over HTTP/2 (cleartext with prior knowledge for <c>http://</c>,
/// TLS with ALPN <c>h2</c> for <c>https://</c>). Thread-safe: create one per server and share it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly ConcurrentDictionary<string, Uri> _methodUris = new(StringComparer.Ordinal);
    private readonly string? _requestCompression;
    private volatile bool _sawResponse;
    private volatile string? _serverAcceptEncoding;
    private bool _disposed;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        Address = address;
        Options = options;
        _requestCompression = options.RequestCompressionAlgorithm;
        AcceptEncodingHeader = string.Join(',', options.AcceptedEncodings);
        var handler = options.HttpHandler ?? CreateHandler(options);
        // HttpMessageInvoker rather than HttpClient: no client-wide timeout or response buffering to undo.
        Invoker = new HttpMessageInvoker(handler, disposeHandler: options.HttpHandler is null);
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    internal GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker { get; }

    internal string AcceptEncodingHeader { get; }

    /// <summary>True when request compression is configured, so responses' <c>grpc-accept-encoding</c> matters.</summary>
    internal bool CompressesRequests => _requestCompression is not null;

    /// <summary>Creates a channel to <paramref name="address"/> (e.g. <c>http://127.0.0.1:5000</c>).</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        return ForAddress(new Uri(address, UriKind.Absolute), options);
    }

    /// <summary>Creates a channel to <paramref name="address"/> (scheme http or https).</summary>
    /// <exception cref="ArgumentException">The scheme is not http/https, or an option is out of range.</exception>
    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"A gRPC address must be an absolute http:// or https:// URI, not '{address}'.", nameof(address));
        }
        options ??= new GrpcChannelOptions();
        Validate(options);
        return new GrpcChannel(address, options);
    }

    /// <summary>Starts a unary call.</summary>
    public AsyncUnaryCall<TResponse> UnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = CreateCall(method, options);
        call.StartWithSingleRequest(request);
        return new AsyncUnaryCall<TResponse>(call, call.ReadSingleResponseAsync());
    }

    /// <summary>Starts a client-streaming call.</summary>
    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var call = CreateCall(method, options);
        var writer = call.StartWithRequestStream();
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, writer, call.ReadSingleResponseAsync());
    }

    /// <summary>Starts a server-streaming call.</summary>
    public AsyncServerStreamingCall<TResponse> ServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = CreateCall(method, options);
        call.StartWithSingleRequest(request);
        return new AsyncServerStreamingCall<TResponse>(call, new ResponseStreamReader<TRequest, TResponse>(call));
    }

    /// <summary>Starts a bidirectional streaming call.</summary>
    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var call = CreateCall(method, options);
        var writer = call.StartWithRequestStream();
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, writer, new ResponseStreamReader<TRequest, TResponse>(call));
    }

    /// <summary>Closes the connections. Calls still running fail.</summary>
    public void Dispose()
    {
        _disposed = true;
        Invoker.Dispose();
    }

    internal Uri GetMethodUri(string path) => _methodUris.GetOrAdd(path, static (p, address) => new Uri(address, p), Address);

    /// <summary>
    /// The request encoding for a new call: the configured one on the channel's first call, afterwards
    /// only if the server listed it in its last <c>grpc-accept-encoding</c> (PROTOCOL-HTTP2.md).
    /// </summary>
    internal string? SelectRequestEncoding()
    {
        if (_requestCompression is null || string.Equals(_requestCompression, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal))
        {
            return null;
        }
        if (!_sawResponse)
        {
            return _requestCompression;
        }
        return MessageCompression.PeerAccepts(_serverAcceptEncoding, _requestCompression) ? _requestCompression : null;
    }

    /// <summary>Remembers what the server accepts, from any gRPC response.</summary>
    internal void ObserveServerAcceptEncoding(string? acceptEncoding)
    {
        _serverAcceptEncoding = acceptEncoding;
        _sawResponse = true;
    }

    private GrpcCall<TRequest, TResponse> CreateCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new GrpcCall<TRequest, TResponse>(this, method, options);
    }

    private static void Validate(GrpcChannelOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxReceiveMessageSizeBytes, nameof(options.MaxReceiveMessageSizeBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxSendMessageSizeBytes, nameof(options.MaxSendMessageSizeBytes));
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options.TimeProvider));
        ArgumentNullException.ThrowIfNull(options.AcceptedEncodings, nameof(options.AcceptedEncodings));
        if (options.RequestCompressionAlgorithm is { } algorithm && !MessageCompression.IsSupported(algorithm))
        {
            throw new ArgumentException($"Request compression '{algorithm}' is not supported: use null, '{GrpcProtocol.IdentityEncoding}' or '{GrpcProtocol.GzipEncoding}'.", nameof(options));
        }
        foreach (var encoding in options.AcceptedEncodings)
        {
            if (!MessageCompression.IsSupported(encoding))
            {
                throw new ArgumentException($"Accepted encoding '{encoding}' is not supported: only '{GrpcProtocol.IdentityEncoding}' and '{GrpcProtocol.GzipEncoding}' are.", nameof(options));
            }
        }
    }

    private static SocketsHttpHandler CreateHandler(GrpcChannelOptions options) => new()
    {
        // One HTTP/2 connection allows about 100 concurrent streams on most servers; open more rather than queue.
        EnableMultipleHttp2Connections = true,
        KeepAlivePingDelay = options.KeepAlivePingDelay,
        KeepAlivePingTimeout = options.KeepAlivePingTimeout,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        // A gRPC channel is long-lived: keep idle connections instead of reconnecting after a quiet minute.
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseCookies = false,
        AllowAutoRedirect = false,
    };
}
