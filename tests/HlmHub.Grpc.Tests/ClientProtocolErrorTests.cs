using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Grpc.Tests;

/// <summary>How our client reacts to a broken server: raw endpoints that break the protocol on purpose.</summary>
public sealed class ClientProtocolErrorTests
{
    private static readonly Method<EchoRequest, EchoReply> Broken = new(MethodType.Unary, "raw.Test", "Broken");

    private static Task<GrpcTestServer> StartWithBrokenEndpoint(RequestDelegate handler) =>
        GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/Broken", handler));

    [Fact]
    public async Task ResponseEndingInsideAMessage_IsInternal()
    {
        await using var server = await StartWithBrokenEndpoint(async context =>
        {
            context.Response.ContentType = "application/grpc";
            var frame = RawGrpc.Frame(new EchoReply { Message = "truncated" });
            await context.Response.Body.WriteAsync(frame.AsMemory(0, frame.Length - 3));
            context.Response.AppendTrailer("grpc-status", "0");
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task CompressedResponseWithoutEncoding_IsInternal()
    {
        await using var server = await StartWithBrokenEndpoint(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "x" }, compressedFlag: true));
            context.Response.AppendTrailer("grpc-status", "0");
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task GarbageResponseMessage_IsInternal()
    {
        await using var server = await StartWithBrokenEndpoint(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF]));
            context.Response.AppendTrailer("grpc-status", "0");
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task TwoMessagesForAUnaryCall_IsInternal()
    {
        await using var server = await StartWithBrokenEndpoint(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "one" }));
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Message = "two" }));
            context.Response.AppendTrailer("grpc-status", "0");
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task ServerResettingTheStream_FailsTheCallWithoutHanging()
    {
        await using var server = await StartWithBrokenEndpoint(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.FlushAsync();
            context.Abort();
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task UnknownStatusCode_IsUnknown()
    {
        await using var server = await StartWithBrokenEndpoint(context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "99";
            context.Response.Headers["grpc-message"] = "from the future";
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(Broken, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Equal("from the future", error.Status.Detail);
    }
}
