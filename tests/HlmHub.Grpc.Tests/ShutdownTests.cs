using HlmHub.Grpc.Tests.Echo;
using HlmHub.Grpc.Tests.Infrastructure;

namespace HlmHub.Grpc.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task GracefulShutdown_LetsAnInFlightCallFinish()
    {
        await using var server = await GrpcTestServer.StartAsync(shutdownTimeout: TimeSpan.FromSeconds(10));

        var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { Message = "drained", DelayMs = 1000 });
        await server.Probe.HandlerStarted.Task.DefaultTimeout();
        var stop = server.StopAsync();
        var reply = await call.ResponseAsync.DefaultTimeout();
        await stop;

        Assert.Equal("drained", reply.Message);
    }

    [Fact]
    public async Task GracefulShutdown_CancelsCallsStillRunningAfterTheLimit()
    {
        await using var server = await GrpcTestServer.StartAsync(shutdownTimeout: TimeSpan.FromMilliseconds(500));

        using var call = server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest { WaitForCancellation = true });
        await server.Probe.HandlerStarted.Task.DefaultTimeout();
        await server.StopAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        await server.Probe.HandlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task AfterShutdown_NewCallsAreUnavailable()
    {
        await using var server = await GrpcTestServer.StartAsync();
        await server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync.DefaultTimeout();
        await server.StopAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Channel.UnaryCall(EchoMethods.Unary, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.True(error.StatusCode == StatusCode.Unavailable, error.Status.ToString());
    }
}
