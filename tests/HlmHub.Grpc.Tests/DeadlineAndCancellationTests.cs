using System.Diagnostics;
using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace HlmHub.Grpc.Tests;

public sealed class DeadlineAndCancellationTests
{
    private static DateTime In(TimeSpan delay) => TimeProvider.System.GetUtcNow().UtcDateTime + delay;

    [Fact]
    public async Task DeadlinePasses_ClientGetsDeadlineExceededAndHandlerIsCancelled()
    {
        await using var server = await GrpcTestServer.StartAsync();

        // Long enough for the call to reach the handler even on a busy machine, or there is no handler to cancel.
        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { WaitForCancellation = true }, new(Deadline: In(TimeSpan.FromSeconds(2))));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task HandlerSeesTheDeadlineTheClientSent()
    {
        await using var server = await GrpcTestServer.StartAsync(configureServices: services =>
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<IServerCallInterceptor>(services, new DeadlineRecorder()));
        var deadline = In(TimeSpan.FromSeconds(30));

        await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest(), new(Deadline: deadline)).ResponseAsync.DefaultTimeout();

        var seen = DeadlineRecorder.Last;
        Assert.InRange(seen, deadline - TimeSpan.FromSeconds(2), deadline + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ServerThatNeverAnswers_ClientStillGetsDeadlineExceededOnTime()
    {
        await using var server = await GrpcTestServer.StartAsync(mapExtra: app => app.MapPost("/raw.Test/Hang",
            context => Task.Delay(Timeout.Infinite, context.RequestAborted)));
        var method = new Client.Method<EchoRequest, EchoReply>(MethodType.Unary, "raw.Test", "Hang");
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(method, new EchoRequest(), new(Deadline: In(TimeSpan.FromMilliseconds(300)))).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task DeadlineAlreadyPassed_FailsWithoutSending()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest(), new(Deadline: In(TimeSpan.FromSeconds(-1)))).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.False(server.Probe.RequestHeaders.Task.IsCompleted);
    }

    [Fact]
    public async Task StreamingDeadline_EndsAPendingRead()
    {
        await using var server = await GrpcTestServer.StartAsync();

        using var call = server.Channel.DuplexStreamingCall(EchoMethods.Duplex, new(Deadline: In(TimeSpan.FromSeconds(2))));
        await call.RequestStream.WriteAsync(new EchoRequest { WaitForCancellation = true }, CancellationToken.None).DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task ClientCancelsWithToken_ClientGetsCancelledAndHandlerTokenFires()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var cancellation = new CancellationTokenSource();

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { WaitForCancellation = true }, new(CancellationToken: cancellation.Token));
        await server.Probe.HandlerStarted.Task.DefaultTimeout();
        await cancellation.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task DisposingAStreamingCall_ResetsTheStreamAndCancelsTheHandler()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var call = server.Channel.DuplexStreamingCall(EchoMethods.Duplex);
        await call.RequestStream.WriteAsync(new EchoRequest { WaitForCancellation = true }, CancellationToken.None).DefaultTimeout();
        await server.Probe.HandlerStarted.Task.DefaultTimeout();
        call.Dispose();

        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None)).DefaultTimeout();
    }

    [Fact]
    public async Task CancellingARead_CancelsTheCall()
    {
        await using var server = await GrpcTestServer.StartAsync();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        using var call = server.Channel.ServerStreamingCall(EchoMethods.ServerStream, new EchoRequest { WaitForCancellation = true });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cancellation.Token)).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task AlreadyCancelledToken_FailsWithoutSending()
    {
        await using var server = await GrpcTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest(), new(CancellationToken: new CancellationToken(canceled: true))).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    [Fact]
    public async Task ServerStillServesAfterCancelledCalls()
    {
        await using var server = await GrpcTestServer.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
            var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { WaitForCancellation = true }, new(CancellationToken: cancellation.Token));
            await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();
        }

        var reply = await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "still here" }).ResponseAsync.DefaultTimeout();

        Assert.Equal("still here", reply.Message);
    }

    [Fact]
    public async Task ClientResetWhileTheServerReadsTheRequest_IsNotLoggedAsAnError()
    {
        await using var server = await GrpcTestServer.StartAsync();
        // Cancelled right after it starts: the RST_STREAM races with the server reading the request message.
        for (var i = 0; i < 50; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { WaitForCancellation = true }, new(CancellationToken: cancellation.Token));
            await Task.Delay(i % 5);
            await cancellation.CancelAsync();
            await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();
        }
        await Task.Delay(200);

        Assert.DoesNotContain(server.Logs, IsClientResetLoggedAsError);
    }

    private static bool IsClientResetLoggedAsError(LogRecord record) =>
        record.Level >= Microsoft.Extensions.Logging.LogLevel.Error && record.Exception is IOException;

    private sealed class DeadlineRecorder : IServerCallInterceptor
    {
        public static DateTime Last { get; private set; }

        public Task InterceptAsync(ServerCallContext context, ServerCallContinuation next)
        {
            Last = context.Deadline;
            return next(context);
        }
    }
}
