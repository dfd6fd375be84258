using System.Net;
using Google.Protobuf;
using Grpc.Testing;
using HlmHub.Grpc;
using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Requests no well-behaved client sends, one named case each, with the status the server must
/// answer. Expectations, from grpc's PROTOCOL-HTTP2.md and statuscodes.md where they say, and
/// from our transport's documented choice where they do not:
/// <list type="bullet">
/// <item>broken framing (truncated prefix or message, flag byte other than 0/1, a second message
/// to a unary method, no message at all), unparseable protobuf, a compressed flag without a usable
/// grpc-encoding, data that does not inflate: INTERNAL;</item>
/// <item>a message over the 4 MiB limit, declared or after inflating, or a response over it: RESOURCE_EXHAUSTED;</item>
/// <item>an unsupported grpc-encoding: UNIMPLEMENTED, with grpc-accept-encoding listing what is supported;</item>
/// <item>a malformed grpc-timeout: INVALID_ARGUMENT (our transport's choice: the spec is silent;
/// grpc-go answers INTERNAL, grpc-core ignores the header);</item>
/// <item>a -bin header that is not base64: INVALID_ARGUMENT;</item>
/// <item>a valid timeout that expires: DEADLINE_EXCEEDED; unknown service or method: UNIMPLEMENTED;</item>
/// <item>not gRPC at all: HTTP 415 (with grpc-status INTERNAL, as grpc-dotnet) for another content
/// type, HTTP 405 for another method than POST.</item>
/// </list>
/// After every case a valid call must still succeed.
/// </summary>
public sealed class RawBadInputTests(InteropServerFixture fixture) : IClassFixture<InteropServerFixture>, IDisposable
{
    internal const string EmptyCallPath = "/grpc.testing.TestService/EmptyCall";
    internal const string UnaryCallPath = "/grpc.testing.TestService/UnaryCall";
    internal const string StreamingInputCallPath = "/grpc.testing.TestService/StreamingInputCall";
    internal const string StreamingOutputCallPath = "/grpc.testing.TestService/StreamingOutputCall";
    internal const int MaxMessageSizeBytes = 4 * 1024 * 1024;

    private readonly RawGrpc _raw = new(fixture.Server.Address);

    /// <summary>A bad request and what must come back.</summary>
    internal sealed record BadInput(RawRequest Request, StatusCode? GrpcStatus, HttpStatusCode HttpStatus = HttpStatusCode.OK);

    private static readonly byte[] EmptyFrame = RawGrpc.Frame([]);
    private static readonly byte[] SleepingRequest = new StreamingOutputCallRequest { ResponseParameters = { new ResponseParameters { Size = 1, IntervalUs = 5_000_000 } } }.ToByteArray();

    internal static readonly Dictionary<string, BadInput> Cases = new(StringComparer.Ordinal)
    {
        // Framing and parsing: INTERNAL.
        ["no message to a unary method"] = Grpc(EmptyCallPath, [], StatusCode.Internal),
        ["prefix cut after 1 byte"] = Grpc(EmptyCallPath, [0], StatusCode.Internal),
        ["prefix cut after 4 bytes"] = Grpc(EmptyCallPath, [0, 0, 0, 0], StatusCode.Internal),
        ["message shorter than declared"] = Grpc(UnaryCallPath, RawGrpc.Frame([0x10, 0x01], declaredLength: 10), StatusCode.Internal),
        ["second message to a unary method"] = Grpc(EmptyCallPath, [.. EmptyFrame, .. EmptyFrame], StatusCode.Internal),
        ["compressed-flag byte 2"] = Grpc(EmptyCallPath, RawGrpc.Frame([], flag: 2), StatusCode.Internal),
        ["compressed-flag byte 255"] = Grpc(EmptyCallPath, RawGrpc.Frame([], flag: 255), StatusCode.Internal),
        ["garbage protobuf: invalid tag"] = Grpc(UnaryCallPath, RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), StatusCode.Internal),
        ["garbage protobuf: wire type 7"] = Grpc(EmptyCallPath, RawGrpc.Frame([0x0F, 0x00]), StatusCode.Internal),
        ["garbage protobuf: field longer than the message"] = Grpc(UnaryCallPath, RawGrpc.Frame([0x1A, 0x40, 0x00]), StatusCode.Internal),
        ["garbage protobuf: unterminated group"] = Grpc(EmptyCallPath, RawGrpc.Frame([0x0B]), StatusCode.Internal),
        ["compressed flag without grpc-encoding"] = Grpc(EmptyCallPath, RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1), StatusCode.Internal),
        ["compressed flag with grpc-encoding identity"] = Grpc(EmptyCallPath, RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1), StatusCode.Internal, ("grpc-encoding", "identity")),
        ["gzip flag on data that is not gzip"] = Grpc(EmptyCallPath, RawGrpc.Frame([1, 2, 3, 4, 5, 6], flag: 1), StatusCode.Internal, ("grpc-encoding", "gzip")),
        ["gzip stream cut short"] = Grpc(UnaryCallPath, RawGrpc.Frame(RawGrpc.Gzip(new SimpleRequest { ResponseSize = 1, Payload = new Payload { Body = ByteString.CopyFrom(new byte[1000]) } }.ToByteArray())[..12], flag: 1), StatusCode.Internal, ("grpc-encoding", "gzip")),

        // Sizes: RESOURCE_EXHAUSTED, decided from the prefix without waiting for the bytes.
        ["declared length 4 MiB + 1"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: MaxMessageSizeBytes + 1), StatusCode.ResourceExhausted),
        ["declared length 2^31"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: 0x8000_0000), StatusCode.ResourceExhausted),
        ["declared length 2^32 - 1"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: uint.MaxValue), StatusCode.ResourceExhausted),
        ["4 MiB + 1 bytes sent"] = Grpc(UnaryCallPath, RawGrpc.Frame(new byte[MaxMessageSizeBytes + 1]), StatusCode.ResourceExhausted),
        ["gzip bomb: 5 MiB of zeros"] = Grpc(UnaryCallPath, RawGrpc.Frame(RawGrpc.Gzip(new SimpleRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) } }.ToByteArray()), flag: 1), StatusCode.ResourceExhausted, ("grpc-encoding", "gzip")),
        ["response over 4 MiB"] = Grpc(UnaryCallPath, RawGrpc.Frame(new SimpleRequest { ResponseSize = MaxMessageSizeBytes + 1 }.ToByteArray()), StatusCode.ResourceExhausted),

        // Encodings: UNIMPLEMENTED.
        ["grpc-encoding snappy"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.Unimplemented, ("grpc-encoding", "snappy")),
        ["grpc-encoding deflate (not supported here)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.Unimplemented, ("grpc-encoding", "deflate")),
        ["grpc-encoding with garbage"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.Unimplemented, ("grpc-encoding", "gzip;q=1, x")),

        // grpc-timeout: 1 to 8 digits then one of H M S m u n, else INVALID_ARGUMENT.
        ["grpc-timeout letters"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "abc")),
        ["grpc-timeout without unit"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "100")),
        ["grpc-timeout without digits"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "S")),
        ["grpc-timeout with 9 digits"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "123456789S")),
        ["grpc-timeout negative"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "-1S")),
        ["grpc-timeout decimal"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "1.5S")),
        ["grpc-timeout unknown unit"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "10s")),
        ["grpc-timeout inner space"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("grpc-timeout", "1 S")),
        ["grpc-timeout 1000H (valid: 41 days)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-timeout", "1000H")),
        ["grpc-timeout 1n on a sleeping call"] = Grpc(StreamingOutputCallPath, RawGrpc.Frame(SleepingRequest), StatusCode.DeadlineExceeded, ("grpc-timeout", "1n")),
        ["grpc-timeout 100m on a sleeping call"] = Grpc(StreamingOutputCallPath, RawGrpc.Frame(SleepingRequest), StatusCode.DeadlineExceeded, ("grpc-timeout", "100m")),

        // Metadata.
        ["-bin header not base64"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("x-data-bin", "not*base64!")),
        ["-bin header of impossible length"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("x-data-bin", "abcde")),
        ["-bin header of padding only"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.InvalidArgument, ("x-data-bin", "====")),
        ["-bin header unpadded (valid)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("x-data-bin", "q6ur")),
        ["-bin header padded (valid)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("x-data-bin", "qw==")),

        // Routing and protocol.
        ["unknown method"] = Grpc("/grpc.testing.TestService/NoSuchCall", EmptyFrame, StatusCode.Unimplemented),
        ["unknown service"] = Grpc("/grpc.testing.NoSuchService/EmptyCall", EmptyFrame, StatusCode.Unimplemented),
        ["content-type application/grpc+proto (valid)"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], "application/grpc+proto"), StatusCode.OK),
        ["content-type application/json"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], "application/json"), StatusCode.Internal, HttpStatusCode.UnsupportedMediaType),
        ["content-type application/grpcx"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], "application/grpcx"), StatusCode.Internal, HttpStatusCode.UnsupportedMediaType),
        ["no content-type"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], null), StatusCode.Internal, HttpStatusCode.UnsupportedMediaType),
        ["GET instead of POST"] = new(new RawRequest(EmptyCallPath, [], [], Method: "GET"), null, HttpStatusCode.MethodNotAllowed),
    };

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var name in Cases.Keys)
        {
            names.Add(name);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task BadRequest_EndsWithItsStatus_AndTheServerKeepsServing(string name)
    {
        var expected = Cases[name];
        var errorsBefore = fixture.Logs.Errors.Count;
        var response = await _raw.SendAsync(expected.Request);

        Assert.True(response.HttpStatus == expected.HttpStatus, $"Expected HTTP {(int)expected.HttpStatus}. {response.Describe()}");
        Assert.True(response.GrpcStatus == expected.GrpcStatus, $"Expected grpc-status {expected.GrpcStatus?.ToString() ?? "none"}. {response.Describe()}");
        if (expected.GrpcStatus == StatusCode.Unimplemented && expected.Request.Headers.Any(header => header.Key == "grpc-encoding"))
        {
            Assert.True(response.Headers.TryGetValues("grpc-accept-encoding", out var accepted) && accepted.Single().Split(',').Contains("gzip"),
                $"An unsupported encoding must be answered with the supported ones in grpc-accept-encoding. {response.Describe()}");
        }
        await AssertServerServesAsync(_raw);
        // A client's garbage is the client's problem: logging it at Error would let any client flood the error log.
        var errors = fixture.Logs.Errors.Skip(errorsBefore).ToList();
        Assert.True(errors.Count == 0, "The server logged errors for a bad request:" + Environment.NewLine + CapturingLoggerProvider.Describe(errors));
    }

    [Theory]
    [InlineData("99999999S")]
    [InlineData("99999999M")]
    [InlineData("99999999H")]
    public async Task LongestValidTimeouts_AreAcceptedAsDeadlines(string timeout)
    {
        var response = await _raw.SendAsync(new RawRequest(EmptyCallPath, EmptyFrame, RawGrpc.Headers(("grpc-timeout", timeout))));

        Assert.True(response.GrpcStatus == StatusCode.OK, $"grpc-timeout {timeout} is valid (8 digits and a unit). {response.Describe()}");
    }

    /// <summary>A valid Empty request (field 1 = 1, unknown to Empty), so only the compression can be at fault.</summary>
    private static readonly byte[] UnknownField = [0x08, 0x01];

    public static TheoryData<string, byte[]> TruncatedGzip() => new()
    {
        { "no bytes at all", [] },
        { "1 byte of header", [0x1f] },
        { "header only", RawGrpc.Gzip(UnknownField)[..10] },
        { "no CRC32/ISIZE trailer", RawGrpc.Gzip(UnknownField)[..^8] },
        { "half of the trailer", RawGrpc.Gzip(UnknownField)[..^4] },
    };

    [Theory]
    [MemberData(nameof(TruncatedGzip))]
    public async Task TruncatedGzipMessage_EndsWithInternal(string description, byte[] compressed)
    {
        var response = await _raw.SendAsync(new RawRequest(EmptyCallPath, RawGrpc.Frame(compressed, flag: 1), RawGrpc.Headers(("grpc-encoding", "gzip"))));

        Assert.True(response.GrpcStatus == StatusCode.Internal, $"A gzip message cut short ({description}) is corrupt data. {response.Describe()}");
    }

    internal static async Task AssertServerServesAsync(RawGrpc raw)
    {
        var response = await raw.SendAsync(new RawRequest(EmptyCallPath, EmptyFrame, []));
        Assert.True(response.GrpcStatus == StatusCode.OK, $"A valid call after bad input failed. {response.Describe()}");
    }

    public void Dispose() => _raw.Dispose();

    private static BadInput Grpc(string path, byte[] body, StatusCode status, params (string Name, string Value)[] headers) =>
        new(new RawRequest(path, body, RawGrpc.Headers(headers)), status);
}
