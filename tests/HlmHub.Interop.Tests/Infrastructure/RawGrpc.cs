using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>One hand-made HTTP/2 request: path, raw body bytes and headers exactly as given.</summary>
/// <param name="Path">e.g. <c>/hlmhub.v1.AdminService/ListLandlords</c>; calls to <c>/hlmhub.</c> services carry the admin's token.</param>
/// <param name="Body">The request body, sent as is (framing included, broken or not).</param>
/// <param name="Headers">Extra request headers, sent without validation.</param>
/// <param name="ContentType">The content-type header; null sends none.</param>
/// <param name="Method">The HTTP method (POST unless a case says otherwise).</param>
internal sealed record RawRequest(string Path, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers, string? ContentType = RawGrpc.GrpcContentType, string Method = "POST");

/// <summary>What came back: the HTTP status, the gRPC status (from the trailers, or the headers of a Trailers-Only response), the body.</summary>
internal sealed record RawResponse(HttpStatusCode HttpStatus, StatusCode? GrpcStatus, string? GrpcMessage, HttpResponseHeaders Headers, HttpResponseHeaders Trailers, byte[] Body)
{
    public string Describe() =>
        $"HTTP {(int)HttpStatus}, grpc-status {(GrpcStatus is { } code ? $"{(int)code} ({code})" : "missing")}, grpc-message '{GrpcMessage}', " +
        $"headers [{string.Join("; ", Headers.Select(header => $"{header.Key}: {string.Join(',', header.Value)}"))}], " +
        $"trailers [{string.Join("; ", Trailers.Select(header => $"{header.Key}: {string.Join(',', header.Value)}"))}], {Body.Length} body bytes";

    /// <summary>The messages of the response body as (compressed flag, payload) pairs; fails on broken framing.</summary>
    public IReadOnlyList<(byte Flag, byte[] Payload)> Messages()
    {
        var messages = new List<(byte, byte[])>();
        var offset = 0;
        while (offset < Body.Length)
        {
            Assert.True(Body.Length - offset >= RawGrpc.PrefixSize, $"Truncated message prefix in the response. {Describe()}");
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(Body.AsSpan(offset + 1, 4));
            Assert.True(Body.Length - offset - RawGrpc.PrefixSize >= length, $"Truncated message in the response. {Describe()}");
            messages.Add((Body[offset], Body.AsSpan(offset + RawGrpc.PrefixSize, length).ToArray()));
            offset += RawGrpc.PrefixSize + length;
        }
        return messages;
    }
}

/// <summary>
/// Raw gRPC over HTTP/2 with HttpClient (cleartext, prior knowledge), so tests can send what no
/// well-behaved client would: broken framing, bad headers, lies about sizes and encodings.
/// </summary>
internal sealed class RawGrpc : IDisposable
{
    public const string GrpcContentType = "application/grpc";
    public const int PrefixSize = 5;

    /// <summary>Time limit of one raw call: every bad request must end quickly, not hang.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _client;
    private readonly Uri _server;
    private readonly string _bearerToken;

    public RawGrpc(Uri server, string bearerToken)
    {
        _server = server;
        _bearerToken = bearerToken;
        _client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, UseCookies = false })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public async Task<RawResponse> SendAsync(RawRequest request)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_server, request.Path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(request.Body),
        };
        if (request.ContentType is not null)
        {
            message.Content.Headers.TryAddWithoutValidation("content-type", request.ContentType);
        }
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (request.Path.StartsWith("/hlmhub.", StringComparison.Ordinal))
        {
            message.Headers.TryAddWithoutValidation("authorization", "Bearer " + _bearerToken);
        }
        foreach (var header in request.Headers)
        {
            Assert.True(message.Headers.TryAddWithoutValidation(header.Key, header.Value), $"HttpClient refused header {header.Key}.");
        }
        using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        var statusSource = response.TrailingHeaders.Contains("grpc-status") ? response.TrailingHeaders : response.Headers;
        StatusCode? status = statusSource.TryGetValues("grpc-status", out var statusValues)
            && int.TryParse(statusValues.First(), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? (StatusCode)code
            : null;
        var grpcMessage = statusSource.TryGetValues("grpc-message", out var messageValues) ? Uri.UnescapeDataString(messageValues.First()) : null;
        return new RawResponse(response.StatusCode, status, grpcMessage, response.Headers, response.TrailingHeaders, body);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A length-prefixed message; <paramref name="declaredLength"/> may lie about the payload's size.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload, byte flag = 0, uint? declaredLength = null)
    {
        var frame = new byte[PrefixSize + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(PrefixSize));
        return frame;
    }

    public static byte[] Gzip(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            // GZipStream writes nothing for no input; a real gzip member of zero bytes (RFC 1952):
            // header, an empty final stored/fixed block, CRC32 0, ISIZE 0.
            return [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        }
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    public static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    public static IReadOnlyList<KeyValuePair<string, string>> Headers(params (string Name, string Value)[] headers) =>
        [.. headers.Select(header => KeyValuePair.Create(header.Name, header.Value))];
}
