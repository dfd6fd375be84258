using System.Net.Http.Headers;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Grpc.Tests;

public sealed class MetadataAndStatusTests
{
    [Fact]
    public async Task CustomMetadata_ReachesTheHandlerAndComesBackInHeadersAndTrailers()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var headers = new Metadata().Add("x-ascii", "value 1").Add("x-data-bin", [1, 2, 3, 4, 5]);

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "m" }, new(Headers: headers));
        await call.ResponseAsync.DefaultTimeout();
        var responseHeaders = await call.ResponseHeadersAsync.DefaultTimeout();
        var seenByHandler = await server.Probe.RequestHeaders.Task.DefaultTimeout();

        Assert.Equal("value 1", seenByHandler.GetValue("x-ascii"));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, seenByHandler.GetValueBytes("x-data-bin"));
        Assert.Equal("value 1", responseHeaders.GetValue("x-ascii"));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, responseHeaders.GetValueBytes("x-data-bin"));
        Assert.Equal("value 1", call.GetTrailers().GetValue("x-ascii-trailer"));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, call.GetTrailers().GetValueBytes("x-data-trailer-bin"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(64)]
    public async Task BinaryMetadataOfAnyLength_RoundTrips(int length)
    {
        await using var server = await GrpcTestServer.StartAsync();
        var value = Enumerable.Range(250, length).Select(i => (byte)i).ToArray();

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest(), new(Headers: new Metadata().Add("x-b-bin", value)));
        await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(value, (await server.Probe.RequestHeaders.Task.DefaultTimeout()).GetValueBytes("x-b-bin"));
        Assert.Equal(value, call.GetTrailers().GetValueBytes("x-b-trailer-bin"));
    }

    [Theory]
    [InlineData("AQID", new byte[] { 1, 2, 3 })]
    [InlineData("AQI=", new byte[] { 1, 2 })]
    [InlineData("AQI", new byte[] { 1, 2 })]
    [InlineData("AQ==", new byte[] { 1 })]
    [InlineData("AQ", new byte[] { 1 })]
    [InlineData("", new byte[0])] // Kestrel drops empty response header values, so only the request direction carries an empty value.
    public async Task ServerAcceptsPaddedAndUnpaddedBinaryHeaders(string base64, byte[] expected)
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest()));
        request.Headers.TryAddWithoutValidation("x-raw-bin", base64);

        using var response = await http.SendAsync(request).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync().DefaultTimeout();

        Assert.Equal("0", RawGrpc.Header(response.TrailingHeaders, "grpc-status"));
        Assert.Equal(expected, (await server.Probe.RequestHeaders.Task.DefaultTimeout()).GetValueBytes("x-raw-bin"));
    }

    [Fact]
    public async Task RequestHeaderOutsideTheGrpcAsciiRangeButValidHttp_DoesNotFailTheCall()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest { Message = "m" }));
        request.Headers.TryAddWithoutValidation("x-tabbed", "a\tb");

        using var response = await http.SendAsync(request).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync().DefaultTimeout();

        // PROTOCOL-HTTP2.md: "Implementations must not error due to receiving an invalid ASCII-Value that's a valid field-value in HTTP".
        Assert.Equal("0", RawGrpc.Header(response.Headers, "grpc-status") ?? RawGrpc.Header(response.TrailingHeaders, "grpc-status"));
    }

    [Fact]
    public async Task ClientAcceptsPaddedUnpaddedAndCommaJoinedBinaryHeaders()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/BinaryHeaders", async context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["x-padded-bin"] = "AQI=";
            context.Response.Headers["x-unpadded-bin"] = "AQI";
            context.Response.Headers["x-joined-bin"] = "AQ,AgM=";
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "raw" }));
            context.Response.AppendTrailer("grpc-status", "0");
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "BinaryHeaders");

        using var call = server.Channel.UnaryCall(method, new EchoRequest());
        var reply = await call.ResponseAsync.DefaultTimeout();
        var headers = await call.ResponseHeadersAsync.DefaultTimeout();

        Assert.Equal("raw", reply.Message);
        Assert.Equal(new byte[] { 1, 2 }, headers.GetValueBytes("x-padded-bin"));
        Assert.Equal(new byte[] { 1, 2 }, headers.GetValueBytes("x-unpadded-bin"));
        Assert.Equal([new byte[] { 1 }, new byte[] { 2, 3 }], headers.GetAll("x-joined-bin").Select(e => e.ValueBytes));
    }

    [Fact]
    public async Task ErrorStatus_WithTrailers_ReachesTheClient()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { FailWithStatus = (int)StatusCode.NotFound, Message = "no such club" });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("no such club", error.Status.Detail);
        Assert.Equal("yes", error.Trailers.GetValue("x-failure"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, error.Trailers.GetValueBytes("x-failure-bin"));
        Assert.Equal(error.Status, call.GetStatus());
    }

    [Theory]
    [InlineData("plain ascii")]
    [InlineData("100% sûr: é, ü, 日本語, emoji 🎉")]
    [InlineData("line one\nline two\ttab %41 stays literal")]
    [InlineData("%")]
    public async Task StatusMessage_RoundTripsThroughPercentEncoding(string detail)
    {
        await using var server = await GrpcTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { FailWithStatus = (int)StatusCode.InvalidArgument, Message = detail }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
    }

    [Fact]
    public async Task ErrorBeforeAnyMessage_IsSentTrailersOnly()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var http = server.CreateRawHttpClient();
        using var request = RawGrpc.Request(EchoMethods.Unary.FullName, RawGrpc.Frame(new EchoRequest { FailWithStatus = (int)StatusCode.AlreadyExists, Message = "dup" }));

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var body = await response.Content.ReadAsByteArrayAsync().DefaultTimeout();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("6", RawGrpc.Header(response.Headers, "grpc-status"));
        Assert.Equal("dup", RawGrpc.Header(response.Headers, "grpc-message"));
        Assert.Equal("yes", RawGrpc.Header(response.Headers, "x-failure"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task TrailersOnlyResponse_GivesTheStatusAndTrailersToTheClient()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/TrailersOnly", context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "7";
            context.Response.Headers["grpc-message"] = "not%20yours %C3%A9";
            context.Response.Headers["x-reason"] = "ownership";
            return Task.CompletedTask;
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, "raw.Test", "TrailersOnly");

        using var call = server.Channel.ServerStreamingCall(method, new EchoRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("not yours é", error.Status.Detail);
        Assert.Equal("ownership", call.GetTrailers().GetValue("x-reason"));
        Assert.Empty(await call.ResponseHeadersAsync.DefaultTimeout());
    }

    [Fact]
    public async Task InvalidPercentEncoding_IsKeptRatherThanLost()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/BadMessage", context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "3";
            context.Response.Headers["grpc-message"] = "50%zz off %E2%82%AC";
            return Task.CompletedTask;
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "BadMessage");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal("50%zz off €", error.Status.Detail);
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    public async Task HttpErrorWithoutGrpcStatus_IsMappedPerTheSpec(int httpStatus, StatusCode expected)
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/Http", context =>
        {
            context.Response.StatusCode = httpStatus;
            return Task.CompletedTask;
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "Http");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponseWithoutGrpcStatus_IsUnknown()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/NoStatus", async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "x" }));
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "NoStatus");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
    }

    [Fact]
    public async Task NonGrpcContentTypeResponse_IsAnError()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/Html", context =>
        {
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync("<html>proxy error</html>");
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "Html");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Contains("text/html", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnaryWithOkButNoMessage_IsInternal()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/Empty", context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "0");
            return Task.CompletedTask;
        }));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "Empty");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(method, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task HandlerException_IsUnknownWithoutDetailsOrStackTrace()
    {
        await using var server = await GrpcTestServer.StartAsync();
        server.ExpectErrorLog(record => record.Exception is InvalidOperationException);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { ThrowException = true }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.DoesNotContain("hunter2", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(server.Logs, record => record.Exception is InvalidOperationException);
    }
}
