using System.Collections.Concurrent;
using HlmHub.Grpc.Client;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Grpc.Tests;

public sealed class InterceptorTests
{
    [Fact]
    public async Task ServerInterceptors_RunInRegistrationOrderAroundTheHandler()
    {
        var events = new ConcurrentQueue<string>();
        await using var server = await GrpcTestServer.StartAsync(configureServices: services =>
        {
            services.AddSingleton<IServerCallInterceptor>(new RecordingInterceptor("first", events));
            services.AddSingleton<IServerCallInterceptor>(new RecordingInterceptor("second", events));
        });

        await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal(["first:/hlmhub.testing.EchoService/Unary", "second:/hlmhub.testing.EchoService/Unary", "second:done", "first:done"], events);
    }

    [Fact]
    public async Task ServerInterceptor_CanRejectACallBeforeTheHandlerRuns()
    {
        await using var server = await GrpcTestServer.StartAsync(configureServices: services =>
            services.AddSingleton<IServerCallInterceptor>(new RejectingInterceptor()));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync).DefaultTimeout();
        var allowed = await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "ok" },
            new(Headers: new Metadata().Add("authorization", "Bearer good"))).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("ok", allowed.Message);
    }

    [Fact]
    public async Task ClientInterceptors_AddMetadataInOrder()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var options = new GrpcChannelOptions();
        options.Interceptors.Add((context, _) =>
        {
            context.RequestHeaders.Add("authorization", "Bearer token-1");
            context.RequestHeaders.Add("x-order", "first");
            return ValueTask.CompletedTask;
        });
        options.Interceptors.Add(async (context, cancellationToken) =>
        {
            await Task.Yield();
            context.RequestHeaders.Add("x-order", "second:" + context.MethodName);
        });
        var channel = server.CreateChannel(options);
        var callHeaders = new Metadata().Add("x-call", "kept");

        await channel.UnaryCall(EchoMethods.Unary, new EchoRequest(), new(Headers: callHeaders)).ResponseAsync.DefaultTimeout();
        var seen = await server.Probe.RequestHeaders.Task.DefaultTimeout();

        Assert.Equal("Bearer token-1", seen.GetValue("authorization"));
        // HTTP/2 clients may join repeated headers with ", " (PROTOCOL-HTTP2.md: semantically equivalent).
        Assert.Equal("first, second:Unary", string.Join(", ", seen.GetAll("x-order").Select(e => e.Value)));
        Assert.Equal("kept", seen.GetValue("x-call"));
        Assert.Single(callHeaders);
    }

    [Fact]
    public async Task ClientInterceptorThrowingRpcException_FailsTheCallWithoutSendingIt()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var options = new GrpcChannelOptions();
        options.Interceptors.Add((_, _) => throw new RpcException(StatusCode.Unauthenticated, "no token available"));
        var channel = server.CreateChannel(options);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("no token available", error.Status.Detail);
        Assert.False(server.Probe.RequestHeaders.Task.IsCompleted);
    }

    [Fact]
    public async Task ClientInterceptorFailing_IsUnavailable()
    {
        await using var server = await GrpcTestServer.StartAsync();
        var options = new GrpcChannelOptions();
        options.Interceptors.Add((_, _) => throw new HttpRequestException("token endpoint down"));
        var channel = server.CreateChannel(options);

        using var call = channel.DuplexStreamingCall(EchoMethods.Duplex);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("token endpoint down", error.Status.Detail, StringComparison.Ordinal);
    }

    private sealed class RecordingInterceptor(string name, ConcurrentQueue<string> events) : IServerCallInterceptor
    {
        public async Task InterceptAsync(ServerCallContext context, ServerCallContinuation next)
        {
            events.Enqueue($"{name}:{context.Method}");
            await next(context);
            events.Enqueue($"{name}:done");
        }
    }

    private sealed class RejectingInterceptor : IServerCallInterceptor
    {
        public Task InterceptAsync(ServerCallContext context, ServerCallContinuation next) =>
            context.RequestHeaders.GetValue("authorization") == "Bearer good"
                ? next(context)
                : throw new RpcException(StatusCode.Unauthenticated, "A bearer token is required.");
    }
}
