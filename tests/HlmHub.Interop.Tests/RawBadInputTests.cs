using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using HlmHub.Contracts.V1;
using HlmHub.Interop.Tests.Infrastructure;

namespace HlmHub.Interop.Tests;

/// <summary>
/// Requests no well-behaved client sends, one named case each, sent to the real hub, with the status it must
/// answer. The statuses are grpc-dotnet's (and grpc's PROTOCOL-HTTP2.md where it says):
/// <list type="bullet">
/// <item>broken framing (truncated prefix or message, flag byte other than 0/1, a second message to a unary
/// method, no message at all), unparseable protobuf, a compressed flag without a usable grpc-encoding, data that
/// does not inflate: INTERNAL;</item>
/// <item>a message over the 4 MiB limit, declared or after inflating: RESOURCE_EXHAUSTED;</item>
/// <item>an unsupported grpc-encoding: UNIMPLEMENTED, with grpc-accept-encoding listing what is supported;</item>
/// <item>a valid timeout that expires: DEADLINE_EXCEEDED;</item>
/// <item>an unknown method or service: refused by the default-deny fallback policy before routing can say
/// UNIMPLEMENTED (UNAUTHENTICATED without a token, PERMISSION_DENIED with one);</item>
/// <item>not gRPC at all: HTTP 415 for another content type.</item>
/// </list>
/// After every case a valid call must still succeed, and the hub must log no error.
/// </summary>
public sealed class RawBadInputTests(HubServerFixture fixture) : IClassFixture<HubServerFixture>, IDisposable
{
    /// <summary>A unary Admin API call (the admin's token is added): an empty request lists the first page of landlords.</summary>
    internal const string EmptyCallPath = "/hlmhub.v1.AdminService/ListLandlords";

    /// <summary>Another unary Admin API call, whose request has a string field (page_token) to break.</summary>
    internal const string UnaryCallPath = "/hlmhub.v1.AdminService/ListPartners";

    /// <summary>Anonymous unary: the health check.</summary>
    internal const string HealthCheckPath = "/grpc.health.v1.Health/Check";

    /// <summary>Anonymous server streaming that stays open: health Watch.</summary>
    internal const string WatchPath = "/grpc.health.v1.Health/Watch";

    /// <summary>Anonymous bidirectional streaming: reflection.</summary>
    internal const string ReflectionPath = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

    internal const int MaxMessageSizeBytes = 4 * 1024 * 1024;

    private readonly RawGrpc _raw = new(fixture.Hub.Address, fixture.AdminToken);

    /// <summary>A bad request and what must come back.</summary>
    internal sealed record BadInput(RawRequest Request, StatusCode? GrpcStatus, HttpStatusCode HttpStatus = HttpStatusCode.OK);

    private static readonly byte[] EmptyFrame = RawGrpc.Frame([]);
    private static readonly byte[] CompressedEmptyFrame = RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1);
    private static readonly byte[] WatchRequest = new HealthCheckRequest().ToByteArray();

    internal static readonly Dictionary<string, BadInput> Cases = new(StringComparer.Ordinal)
    {
        // Framing grpc-dotnet detects while reading: INTERNAL.
        ["no message to a unary method"] = Grpc(EmptyCallPath, [], StatusCode.Internal),
        ["prefix cut after 1 byte"] = Grpc(EmptyCallPath, [0], StatusCode.Internal),
        ["prefix cut after 4 bytes"] = Grpc(EmptyCallPath, [0, 0, 0, 0], StatusCode.Internal),
        ["message shorter than declared"] = Grpc(UnaryCallPath, RawGrpc.Frame([0x10, 0x01], declaredLength: 10), StatusCode.Internal),
        ["second message to a unary method"] = Grpc(EmptyCallPath, [.. EmptyFrame, .. EmptyFrame], StatusCode.Internal),
        ["compressed flag without grpc-encoding"] = Grpc(EmptyCallPath, RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1), StatusCode.Internal),
        ["compressed flag with grpc-encoding identity"] = Grpc(EmptyCallPath, RawGrpc.Frame(RawGrpc.Gzip([]), flag: 1), StatusCode.Internal, ("grpc-encoding", "identity")),

        // A message grpc-dotnet cannot decode (flag byte, inflation, protobuf): UNKNOWN, "Exception was thrown by
        // handler." That is grpc-dotnet's answer for an exception while decoding; the handler never runs.
        ["compressed-flag byte 2"] = Grpc(EmptyCallPath, RawGrpc.Frame([], flag: 2), StatusCode.Unknown),
        ["compressed-flag byte 255"] = Grpc(EmptyCallPath, RawGrpc.Frame([], flag: 255), StatusCode.Unknown),
        ["garbage protobuf: invalid tag"] = Grpc(UnaryCallPath, RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), StatusCode.Unknown),
        ["garbage protobuf: wire type 7"] = Grpc(EmptyCallPath, RawGrpc.Frame([0x0F, 0x00]), StatusCode.Unknown),
        ["garbage protobuf: field longer than the message"] = Grpc(UnaryCallPath, RawGrpc.Frame([0x1A, 0x40, 0x00]), StatusCode.Unknown),
        ["garbage protobuf: unterminated group"] = Grpc(EmptyCallPath, RawGrpc.Frame([0x0B]), StatusCode.Unknown),
        ["gzip flag on data that is not gzip"] = Grpc(EmptyCallPath, RawGrpc.Frame([1, 2, 3, 4, 5, 6], flag: 1), StatusCode.Unknown, ("grpc-encoding", "gzip")),
        ["gzip stream cut short"] = Grpc(UnaryCallPath, RawGrpc.Frame(RawGrpc.Gzip(new ListPartnersRequest { PageToken = new string('x', 1000) }.ToByteArray())[..12], flag: 1), StatusCode.Unknown, ("grpc-encoding", "gzip")),

        // Sizes: RESOURCE_EXHAUSTED, decided from the prefix without waiting for the bytes. A declared length of
        // 2^31 or more is read by grpc-dotnet as a negative number and refused as undecodable (UNKNOWN): refused
        // all the same, with nothing allocated.
        ["declared length 4 MiB + 1"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: MaxMessageSizeBytes + 1), StatusCode.ResourceExhausted),
        ["declared length 2^31 - 1"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: int.MaxValue), StatusCode.ResourceExhausted),
        ["declared length 2^31"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: 0x8000_0000), StatusCode.Unknown),
        ["declared length 2^32 - 1"] = Grpc(EmptyCallPath, RawGrpc.Frame([], declaredLength: uint.MaxValue), StatusCode.Unknown),
        ["4 MiB + 1 bytes sent"] = Grpc(UnaryCallPath, RawGrpc.Frame(new byte[MaxMessageSizeBytes + 1]), StatusCode.ResourceExhausted),
        ["gzip bomb: 5 MiB of zeros"] = Grpc(UnaryCallPath, RawGrpc.Frame(RawGrpc.Gzip(new ListPartnersRequest { PageToken = new string('0', 5 * 1024 * 1024) }.ToByteArray()), flag: 1), StatusCode.ResourceExhausted, ("grpc-encoding", "gzip")),

        // Encodings: a compressed message in an encoding the hub does not support is UNIMPLEMENTED, with
        // grpc-accept-encoding listing what is; an uncompressed message is read whatever grpc-encoding says.
        ["compressed message, grpc-encoding snappy"] = Grpc(EmptyCallPath, CompressedEmptyFrame, StatusCode.Unimplemented, ("grpc-encoding", "snappy")),
        ["compressed message, grpc-encoding with garbage"] = Grpc(EmptyCallPath, CompressedEmptyFrame, StatusCode.Unimplemented, ("grpc-encoding", "gzip;q=1, x")),
        ["uncompressed message, grpc-encoding snappy"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-encoding", "snappy")),

        // grpc-timeout: grpc-dotnet ignores a value it cannot read (the call has no deadline, as with grpc-core);
        // a valid one that expires ends the call with DEADLINE_EXCEEDED.
        ["grpc-timeout letters (ignored)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-timeout", "abc")),
        ["grpc-timeout without unit (ignored)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-timeout", "100")),
        ["grpc-timeout negative (ignored)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-timeout", "-1S")),
        ["grpc-timeout 1000H (valid: 41 days)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("grpc-timeout", "1000H")),
        ["grpc-timeout 1m on an open Watch"] = Grpc(WatchPath, RawGrpc.Frame(WatchRequest), StatusCode.DeadlineExceeded, ("grpc-timeout", "1m")),
        ["grpc-timeout 100m on an open Watch"] = Grpc(WatchPath, RawGrpc.Frame(WatchRequest), StatusCode.DeadlineExceeded, ("grpc-timeout", "100m")),

        // Metadata: -bin headers are decoded only when read; the hub reads none, so a broken one changes nothing.
        ["-bin header not base64 (not read)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("x-data-bin", "not*base64!")),
        ["-bin header padded (valid)"] = Grpc(EmptyCallPath, EmptyFrame, StatusCode.OK, ("x-data-bin", "qw==")),

        // Routing and protocol.
        ["unknown method, with a token"] = Grpc("/hlmhub.v1.AdminService/NoSuchCall", EmptyFrame, StatusCode.PermissionDenied),
        ["unknown service, with a token"] = Grpc("/hlmhub.v1.NoSuchService/ListLandlords", EmptyFrame, StatusCode.Unimplemented),
        ["unknown service, anonymous"] = Grpc("/grpc.testing.NoSuchService/EmptyCall", EmptyFrame, StatusCode.Unimplemented),
        ["anonymous health check"] = Grpc(HealthCheckPath, EmptyFrame, StatusCode.OK),
        ["content-type application/grpc+proto (valid)"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], "application/grpc+proto"), StatusCode.OK),
        ["content-type application/json"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], "application/json"), StatusCode.Internal, HttpStatusCode.UnsupportedMediaType),
        ["no content-type"] = new(new RawRequest(EmptyCallPath, EmptyFrame, [], null), StatusCode.Internal, HttpStatusCode.UnsupportedMediaType),
        ["GET instead of POST"] = new(new RawRequest(EmptyCallPath, [], [], Method: "GET"), StatusCode.PermissionDenied),
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
        var errorsBefore = fixture.Errors.Count;
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
        var errors = fixture.Errors.Skip(errorsBefore).ToList();
        Assert.True(errors.Count == 0, "The server logged errors for a bad request:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
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
    public async Task TruncatedGzipMessage_IsReadAsFarAsItGoes_AndTheServerKeepsServing(string description, byte[] compressed)
    {
        var response = await _raw.SendAsync(new RawRequest(EmptyCallPath, RawGrpc.Frame(compressed, flag: 1), RawGrpc.Headers(("grpc-encoding", "gzip"))));

        // .NET's GZipStream (which grpc-dotnet inflates with) does not insist on the gzip trailer: a stream cut
        // short yields the bytes inflated so far, here an empty request. The call is answered like that request.
        Assert.True(response.GrpcStatus == StatusCode.OK, $"A gzip message cut short ({description}). {response.Describe()}");
        await AssertServerServesAsync(_raw);
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
